"""The payment's own identification of its parties (date and place of birth, Othr ids, LEI, BIC,
country of residence) read from the pacs.008, carried through translation, and compared by
screening with what the list says (issue 16, secondary identifiers)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from router.corridor.screening_view import screening_request
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.iso20022.directory import load_directory
from router.iso20022.inbound import extract, normalise
from router.iso20022.model import Party, PartyId, Payment
from router.iso20022.parser import parse_xml
from router.iso20022.registry import Identified, identify
from router.iso20022.translate import to_cbpr
from router.outcome import Ok
from router.screening.decision import screen_payment
from router.screening.model import Identifiers, ListEntry, ListVersion, SanctionsList
from router.screening.screener import Screener
from router.screening.settings import ScreeningSettings

SAMPLE = "pacs.008.001.08__fednow__CustomerCreditTransfer_Scenario1_Step1.xml"
PERSON_ID = ("<Id><PrvtId><DtAndPlcOfBirth><BirthDt>1975-08-09+08:00</BirthDt><CityOfBirth>Shanghai</CityOfBirth>"
             "<CtryOfBirth>CN</CtryOfBirth></DtAndPlcOfBirth><Othr><Id>E12345678</Id><SchmeNm><Cd>CCPT</Cd>"
             "</SchmeNm><Issr>CN</Issr></Othr></PrvtId></Id><CtryOfRes>US</CtryOfRes>")
ORG_ID = ("<Id><OrgId><AnyBIC>NRDBDEFFXXX</AnyBIC><LEI>5299000J2N45DDNE4Y28</LEI><Othr><Id>HRB 12345</Id>"
          "<SchmeNm><Prtry>HANDELSREGISTER</Prtry></SchmeNm></Othr></OrgId></Id><CtryOfRes>DE</CtryOfRes>")


def _ident(raw: bytes) -> Identified:
    parsed = parse_xml(raw, max_bytes=1 << 20)
    assert isinstance(parsed, Ok), parsed
    found = identify(parsed.value)
    assert isinstance(found, Ok), found
    return found.value


def _sample(shared: Path) -> str:
    path = shared / "iso20022" / "samples" / SAMPLE
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path.read_text(encoding="utf-8")


def test_identification_is_read_from_the_published_sample(shared_dir: Path) -> None:
    text = _sample(shared_dir)
    # The published sample with identification added where the schema puts it (after PstlAdr).
    dbtr_end = text.index("</Dbtr>")
    text = text[:dbtr_end] + PERSON_ID + text[dbtr_end:]
    cdtr_end = text.index("</Cdtr>")
    text = text[:cdtr_end] + ORG_ID + text[cdtr_end:]
    got = extract(_ident(text.encode()))
    assert isinstance(got, Ok), got
    p = got.value
    assert isinstance(p, Payment) and p.debtor is not None and p.creditor is not None
    assert (p.debtor.birth_date, p.debtor.birth_city, p.debtor.birth_country) == (date(1975, 8, 9), "Shanghai", "CN")
    assert p.debtor.private_ids == (PartyId(id="E12345678", scheme="CCPT", issuer="CN"),)
    assert p.debtor.residence_country == "US" and p.debtor.address is not None  # the address is still read
    assert (p.creditor.bic, p.creditor.lei, p.creditor.residence_country) == ("NRDBDEFFXXX", "5299000J2N45DDNE4Y28",
                                                                              "DE")
    assert p.creditor.org_ids == (PartyId(id="HRB 12345", scheme="HANDELSREGISTER", proprietary=True),)
    view = screening_request(p, load_directory())
    assert view.debtor.birth_date == date(1975, 8, 9) and view.debtor.birth_place == "Shanghai, China"
    assert view.debtor.national_id == "E12345678" and view.debtor.residence_country == "US"
    assert view.creditor.id_numbers == ("HRB 12345", "5299000J2N45DDNE4Y28") and view.creditor.bic == "NRDBDEFFXXX"


def _with_ids(p: Payment) -> Payment:
    assert p.debtor is not None and p.creditor is not None
    return p.model_copy(update={
        "debtor": p.debtor.model_copy(update={
            "birth_date": date(1975, 8, 9), "birth_city": "Shanghai", "birth_country": "CN", "residence_country": "CN",
            "private_ids": (PartyId(id="310101197508090011", scheme="NIDN"),)}),
        "creditor": p.creditor.model_copy(update={
            "lei": "5299000J2N45DDNE4Y28", "residence_country": "DE",
            "org_ids": (PartyId(id="HRB 12345", scheme="X1", proprietary=True),)}),
    })


@pytest.mark.parametrize(("side", "profile", "payment"), [("cips", "cips", ex.cips_pacs008),
                                                          ("corr", "cbpr", ex.cbpr_pacs008)])
def test_both_profiles_accept_and_round_trip_identification(side: str, profile: str, payment: object) -> None:
    p = _with_ids(payment())  # type: ignore[operator]
    got = normalise(_ident(build_message(p, profile)), side)  # type: ignore[arg-type]
    assert isinstance(got, Ok), got
    assert got.value.debtor == p.debtor and got.value.creditor == p.creditor  # type: ignore[union-attr]


def test_translation_to_cbpr_keeps_identification_and_writes_the_city_in_fin_x() -> None:
    p = _with_ids(ex.cips_pacs008())
    assert p.debtor is not None
    p = p.model_copy(update={"debtor": p.debtor.model_copy(update={"birth_city": "上海"})})
    t = to_cbpr(p, load_directory())
    assert isinstance(t, Ok), t
    debtor = t.value.message.debtor  # type: ignore[union-attr]
    assert isinstance(debtor, Party)
    assert debtor.birth_city == "SHANGHAI" and debtor.birth_date == date(1975, 8, 9)
    assert debtor.private_ids == (PartyId(id="310101197508090011", scheme="NIDN"),)


LISTED = ListEntry("L1", "SHI, Min", "individual", countries=("CN",),
                   identifiers=Identifiers(birth_dates=("1975-08-09",), id_numbers=("E12345678",)))
SCREENER = Screener([SanctionsList(ListVersion("TEST", date(2024, 1, 1), "list", 1, "0" * 64), (LISTED,))],
                    ScreeningSettings())


def _payment(**debtor: object) -> Payment:
    p = ex.cbpr_pacs008()
    assert p.debtor is not None
    return p.model_copy(update={"debtor": p.debtor.model_copy(update={"name": "Shi Min", **debtor})})


def _decide(p: Payment) -> tuple[str, str]:
    d = screen_payment(screening_request(p, load_directory()), SCREENER, (), p.created)
    return d.outcome, d.reason


def test_policy_on_what_the_payment_says() -> None:
    # A short name alone (and in another country than the listed one's): held, never refused.
    outcome, reason = _decide(_payment(address=None, residence_country="CN"))
    assert outcome == "hold" and "short name" in reason
    # The same name and the listed date of birth: refused, the reason shows both sides.
    outcome, reason = _decide(_payment(address=None, residence_country="CN", birth_date=date(1975, 8, 9),
                                       birth_city="Shanghai", birth_country="CN"))
    assert outcome == "reject" and "date of birth: payment 1975-08-09, list 1975-08-09" in reason
    # A passport number on the list agrees: refused; with an address in another country than the
    # list's, held (any contradiction leaves the decision to an analyst).
    passport = (PartyId(id="E 1234 5678", scheme="CCPT"),)
    outcome, reason = _decide(_payment(private_ids=passport, address=None, residence_country="CN"))
    assert outcome == "reject" and "ID number: payment E 1234 5678, list E12345678" in reason
    outcome, reason = _decide(_payment(private_ids=passport))
    assert outcome == "hold" and "contradicts: country: payment DE, list CN" in reason
    # Another date of birth and another country (Germany): another person of that name, cleared.
    outcome, _ = _decide(_payment(birth_date=date(1990, 1, 2), birth_city="Berlin", birth_country="DE"))
    assert outcome == "clear"
