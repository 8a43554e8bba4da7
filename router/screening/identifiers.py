"""Secondary identifiers: what a list says about a person besides the name, and how a payment's
party compares with it (date and place of birth, nationality and address country, ID numbers).

OFAC writes them in the remarks ("DOB 18 Mar 1961; alt. DOB circa 1950; POB China; nationality
China; Passport 611657479 (China); National ID No. D489833(9) (Hong Kong)"); the UN list in
fields (DATE_OF_BIRTH, PLACE_OF_BIRTH, NATIONALITY, INDIVIDUAL_DOCUMENT). An agreement raises a
name match's score, a clear contradiction lowers it; every comparison is explained.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import pycountry

from router.screening.model import Identifiers
from router.screening.settings import EvidenceWeights

_DOB = re.compile(r"\bDOB (?:circa |c\. )?((?:\d{1,2} )?(?:[A-Z][a-z]{2} )?\d{4})(?: to (\d{4}))?")
_POB = re.compile(r"\bPOB ([^;]+)")
_NATIONALITY = re.compile(r"\b(?:nationality|citizen) ([A-Z][A-Za-z ,.'-]+?)(?:;|\.$|$)")
_ID = re.compile(r"\b(?:Passport|National ID No\.|Identification Number|Cedula No\.|D\.N\.I\.|"
                 r"Tax ID No\.|Residency Number|Personal ID Card|ID No\.)\s+([A-Z0-9][A-Z0-9()/.-]{3,})",
                 re.IGNORECASE)
_ID_CHARS = re.compile(r"[^A-Z0-9]")


def id_key(value: str) -> str:
    """An ID number as compared: letters and digits, upper case ("D489833(9)" -> "D4898339")."""
    return _ID_CHARS.sub("", value.upper())


# Country names as the lists spell them that pycountry does not resolve (or resolves otherwise).
_LIST_SPELLINGS = {"korea, north": "KP", "north korea": "KP", "democratic people's republic of korea": "KP",
                   "korea, south": "KR", "iran": "IR", "russia": "RU", "syria": "SY", "burma": "MM",
                   "venezuela": "VE", "democratic republic of the congo": "CD",
                   "congo, democratic republic of the": "CD", "turkey": "TR", "laos": "LA", "vietnam": "VN",
                   "bolivia": "BO", "tanzania": "TZ"}


@lru_cache(maxsize=4096)
def country_code(name: str | None) -> str | None:
    """An ISO 3166 alpha-2 code for a country as the lists write it (a code, a name, or one of the
    lists' own spellings), None when it is not one."""
    if not name:
        return None
    name = name.strip().strip(".")
    if not name:
        return None
    if name.lower() in _LIST_SPELLINGS:
        return _LIST_SPELLINGS[name.lower()]
    if len(name) == 2 and name.isalpha():
        return name.upper() if pycountry.countries.get(alpha_2=name.upper()) else None
    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        return None


def _dob(text: str, until: str | None) -> list[str]:
    for fmt in ("%d %b %Y", "%b %Y", "%Y"):
        try:
            d = datetime.strptime(text, fmt).replace(tzinfo=UTC).date()
        except ValueError:
            continue
        if fmt == "%d %b %Y":
            return [d.isoformat()]
        if until and until.isdigit():
            return [str(y) for y in range(d.year, int(until) + 1)][:20]
        return [str(d.year)]
    return []


def from_ofac_remarks(remarks: str) -> Identifiers:
    dobs = [x for m in _DOB.finditer(remarks) for x in _dob(m.group(1), m.group(2))]
    places = [m.group(1).strip() for m in _POB.finditer(remarks)]
    nats = [c for m in _NATIONALITY.finditer(remarks) if (c := country_code(m.group(1)))]
    ids = [id_key(m.group(1)) for m in _ID.finditer(remarks)]
    return Identifiers(tuple(dict.fromkeys(dobs)), tuple(dict.fromkeys(places)), tuple(dict.fromkeys(nats)),
                       tuple(dict.fromkeys(i for i in ids if len(i) >= 4)))


@dataclass(frozen=True, slots=True)
class Evidence:
    """The comparison of a party with a listed person: the score change and why. ``confirmed``
    counts the agreements that single out a person (date of birth, ID number), as opposed to a
    country, which millions share."""

    delta: float = 0.0
    agreed: tuple[str, ...] = ()
    contradicted: tuple[str, ...] = ()
    confirmed: int = 0

    def lines(self) -> tuple[str, ...]:
        return (*(f"agrees: {a}" for a in self.agreed), *(f"contradicts: {c}" for c in self.contradicted))


def _place_tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z]+", text.lower()) if len(t) >= 3}


def _both(what: str, payment: str, listed: Sequence[str]) -> str:
    return f"{what}: payment {payment}, list {'; '.join(listed[:4])}"


def compare(ids: Identifiers, countries: tuple[str, ...], *, birth_date: date | None, birth_place: str | None,
            party_countries: Sequence[str], id_numbers: Sequence[str], weights: EvidenceWeights) -> Evidence:
    """What the party's identifiers say about one listed person (``countries``: the list's
    address and nationality countries; ``party_countries``: the party's residence and address
    countries). Each line names the payment's value and the list's."""
    agreed: list[str] = []
    contra: list[str] = []
    delta = 0.0
    confirmed = 0
    if birth_date is not None and ids.birth_dates:
        full = [d for d in ids.birth_dates if len(d) == 10]
        years = {int(d[:4]) for d in ids.birth_dates}
        line = _both("date of birth", birth_date.isoformat(), ids.birth_dates)
        if birth_date.isoformat() in full or (birth_date.year in years and not full):
            agreed.append(line)
            delta += weights.birth_date_agrees
            confirmed += 1
        elif birth_date.year in years:
            agreed.append(line.replace("date of birth", "year of birth", 1))
            delta += weights.birth_date_agrees / 2
        elif all(abs(birth_date.year - y) > 1 for y in years):
            contra.append(line)
            delta -= weights.birth_date_contradicts
    if birth_place and ids.birth_places:
        mine = _place_tokens(birth_place)
        if any(mine & _place_tokens(p) for p in ids.birth_places):
            agreed.append(_both("place of birth", birth_place, ids.birth_places))
            delta += weights.birth_place_agrees
    keys = {k: n for n in id_numbers if (k := id_key(n))}
    same = [n for k, n in keys.items() if k in ids.id_numbers]
    if same:
        agreed.append(_both("ID number", same[0], ids.id_numbers))
        delta += weights.id_number_agrees
        confirmed += 1
    known = tuple(dict.fromkeys((*ids.nationalities, *countries)))
    mine_cc = tuple(dict.fromkeys(c.strip().upper() for c in party_countries if c and c.strip()))
    if mine_cc and known:
        line = _both("country", ", ".join(mine_cc), known)
        if set(mine_cc) & set(known):
            agreed.append(line)
            delta += weights.country_agrees
        else:
            contra.append(line)
            delta -= weights.country_contradicts
    return Evidence(round(delta, 4), tuple(agreed), tuple(contra), confirmed)
