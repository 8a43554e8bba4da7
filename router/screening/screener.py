"""Screen names, BICs and countries against the loaded lists and the country settings.

A ``Screener`` is built once per set of list versions (the index build takes a few seconds
for the full SDN list) and then answers in tens of microseconds. Every match says which list
(and which version of it), which entry, which field and which score, so an analyst can see
why a payment was stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import cast

from router.screening import chinese
from router.screening.chinese_index import ChineseIndex
from router.screening.identifiers import Evidence, compare
from router.screening.index import IndexedName, NameIndex, bic_index
from router.screening.model import Field_, ListEntry, ListVersion, Match, Outcome, Party, SanctionsList
from router.screening.normalise import has_cjk, tokens
from router.screening.settings import ScreeningSettings

EMBARGO_LIST = "EMBARGOED-COUNTRIES"
HIGH_RISK_LIST = "HIGH-RISK-COUNTRIES"
# A listed bank's other branch: very likely the same institution, but a human should look.
BIC8_SCORE = 0.95
# A match screened without the payment's party: nothing agrees, nothing contradicts.
NO_EVIDENCE = Evidence()
_validate_match = Match.__pydantic_validator__.validate_python


def canonical_bic(bic: str) -> str:
    b = bic.strip().upper()
    return b + "XXX" if len(b) == 8 else b


class Screener:
    def __init__(self, lists: Sequence[SanctionsList], settings: ScreeningSettings) -> None:
        self.settings = settings
        self.lists = tuple(lists)
        entries: list[ListEntry] = []
        self._owner: list[ListVersion] = []
        for lst in self.lists:
            entries.extend(lst.entries)
            self._owner.extend([lst.version] * len(lst.entries))
        self.index = NameIndex(entries)
        self.chinese = ChineseIndex(self.index.names, entries)
        self._labels = {id(lst.version): lst.version.label for lst in self.lists}
        # What every match of an entry says about the entry, built once rather than per match.
        self._about: list[dict[str, object]] = [
            {"list": v.source, "list_version": self._labels[id(v)], "entry": e.uid, "entry_name": e.name}
            for e, v in zip(entries, self._owner, strict=True)]
        self._bics = bic_index(entries)

    @property
    def versions(self) -> tuple[ListVersion, ...]:
        return tuple(lst.version for lst in self.lists)

    def _match(self, i: int, field: Field_, matched: str, screened: str, party: str, score: float,
               **more: object) -> Match:
        # pydantic-core validating a dict: faster than keyword arguments (which pydantic packs into a
        # dict itself), model_validate's Python wrapper, or model_construct's Python path.
        d = self._about[i].copy()
        d.update(more, field=field, matched=matched, screened=screened, party=party, score=round(min(score, 1.0), 4))
        return cast(Match, _validate_match(d))

    def screen_name(self, name: str | None, *, party: str = "", original: str | None = None,
                    subject: Party | None = None) -> list[Match]:
        """Name matches at or above the hold score, best per list entry, best first.

        Names are compared as written (fuzzy, ``NameIndex``) and, for Chinese names, across
        romanizations (``ChineseIndex``). With ``subject`` (the payment's party), each match is
        moved by its secondary identifiers against the listed person's and says which agreed.
        """
        # Best hit per list entry first (aliases of one entry collapse), explanations after.
        best: dict[int, tuple[float, IndexedName, str, str]] = {}
        threshold = self.settings.hold_score
        for value in (name, original):
            if not value or not value.strip():
                continue
            for hit in self.index.search(value, min_score=threshold):
                n = hit.name
                seen = best.get(n.entry)
                if seen is None or seen[0] < hit.score:
                    best[n.entry] = (hit.score, n, value, "spelling")
            for ch in self.chinese.search(value):
                n = ch.name
                seen = best.get(n.entry)
                if ch.score >= threshold and (seen is None or seen[0] < ch.score):
                    best[n.entry] = (ch.score, n, value, f"romanization:{ch.scheme}/{ch.listed_as}")
            if value is name and original and original.strip() == (name or "").strip():
                break
        if not best:
            return []
        out: list[Match] = []
        policy = self.settings.policy
        for score, n, value, basis in best.values():
            size = _name_size(value)
            # Chinese names differ by whole syllables, not typos; short ones need still more.
            need = policy.short_name_hold_score if size <= 2 else policy.chinese_name_hold_score
            if basis == "spelling" and score < need and _reads_chinese(value):
                continue
            ev = self._evidence(n.entry, subject) if subject is not None else NO_EVIDENCE
            final = score + ev.delta
            if final < threshold:
                continue  # a clear contradiction: another person of the same name
            out.append(self._match(n.entry, n.field, n.text, value, party, final, name_score=round(min(score, 1.0), 4),
                                   basis=basis, short=size <= 2, name_size=size,
                                   evidence=ev.lines() if ev is not NO_EVIDENCE else (),
                                   agreed=len(ev.agreed), contradicted=len(ev.contradicted),
                                   confirmed=ev.confirmed))
        out.sort(key=lambda m: -m.score)
        return out

    def _evidence(self, i: int, subject: Party) -> Evidence:
        e = self.index.entries[i]
        ids = (subject.national_id, *subject.id_numbers) if subject.national_id else subject.id_numbers
        return compare(e.identifiers, e.countries, birth_date=subject.birth_date, birth_place=subject.birth_place,
                       party_countries=[c for c in (subject.country, subject.residence_country) if c],
                       id_numbers=ids, weights=self.settings.evidence)

    def screen_bic(self, bic: str | None, *, party: str = "") -> list[Match]:
        """Exact BIC (BIC8 = BIC8 + "XXX") scores 1; another branch of a listed BIC8 scores 0.95."""
        if not bic:
            return []
        wanted = canonical_bic(bic)
        found: dict[tuple[str, str], Match] = {}
        for i, listed in self._bics.get(wanted[:8], ()):
            score = 1.0 if canonical_bic(listed) == wanted else BIC8_SCORE
            m = self._match(i, "bic", listed, bic.strip().upper(), party, score)
            k = (m.list, m.entry)
            if k not in found or found[k].score < score:
                found[k] = m
        return sorted(found.values(), key=lambda m: -m.score)

    def screen_country(self, country: str | None, *, party: str = "") -> list[Match]:
        if not country:
            return []
        cc = country.strip().upper()
        s = self.settings
        if cc in s.embargoed_countries:
            return [Match(list=EMBARGO_LIST, list_version="settings", entry=cc, entry_name=cc, field="country",
                          matched=cc, screened=cc, party=party, score=1.0)]
        if cc in s.high_risk_countries:
            return [Match(list=HIGH_RISK_LIST, list_version="settings", entry=cc, entry_name=cc, field="country",
                          matched=cc, screened=cc, party=party, score=s.hold_score)]
        return []

    def rejects(self, m: Match) -> bool:
        """The decision policy (README, "Screening decisions"): an embargoed country or a listed BIC
        rejects; a name match rejects only when it is strong, i.e. at the reject score with nothing
        contradicting it, and either a date of birth or ID number agrees or it is a long name spelled exactly."""
        s = self.settings
        if m.list == EMBARGO_LIST:
            return True
        if m.list == HIGH_RISK_LIST or m.score < s.reject_score:
            return False
        if m.field not in ("name", "alias"):
            return True
        if m.contradicted:
            return False
        if m.confirmed:
            return True  # a date of birth or ID number agrees: a country alone is shared by millions
        if m.basis != "spelling" and not s.policy.romanization_rejects_alone:
            return False
        # A romanization equivalence is every syllable agreeing: as exact as it gets across scripts.
        exact = m.basis != "spelling" or (m.name_score if m.name_score is not None else m.score) >= 1.0
        return not m.short and m.name_size >= s.policy.exact_name_min_tokens and exact

    def outcome_of(self, matches: Sequence[Match]) -> Outcome:
        """Reject on a strong match (``rejects``); hold on any other match."""
        if not matches:
            return "clear"
        return "reject" if any(self.rejects(m) for m in matches) else "hold"


# Per screened value, like ``normalise.tokens``: the same names come back payment after payment.
@lru_cache(maxsize=65536)
def _reads_chinese(value: str) -> bool:
    return has_cjk(value) or bool(chinese.readings(tokens(value)))


@lru_cache(maxsize=65536)
def _name_size(value: str) -> int:
    """Tokens of a name, or syllables of a Chinese one ("张伟" is 2, "Zhang Weiguo" 3)."""
    if has_cjk(value):
        r = chinese.of_characters(value.strip())
        if r is not None:
            return r.syllables
    toks = tokens(value)
    reads = chinese.readings(toks)
    return max(len(toks), min((r.syllables for r in reads), default=0))
