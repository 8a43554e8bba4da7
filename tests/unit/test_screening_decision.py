"""Payment-level decisions, case and audit records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from router.outcome import REGULATORY
from router.screening.cases import Case, analyst_decision, audit_for, audit_for_analyst, case_for
from router.screening.decision import screen_payment
from router.screening.loaders import load_list
from router.screening.model import Agent, Party, ScreeningRequest
from router.screening.rules import PastPayment
from router.screening.screener import Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener([load_list(DEMO_LIST)], ScreeningSettings())


def payment(debtor: str = "Wang Fang", creditor: str = "Hans Muller", *, original: str | None = None,
            creditor_bic: str = "DEUTDEFFXXX", creditor_country: str = "DE", amount: str = "1000",
            currency: str = "CNY") -> ScreeningRequest:
    return ScreeningRequest(
        uetr="7b4f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        debtor=Party(name=debtor, name_original=original, account="0031000000000001", country="CN",
                     address="1 Nanjing Rd, Shanghai", wallet_tier=2, is_ecny_wallet=True),
        creditor=Party(name=creditor, account="DE89370400440532013000", country=creditor_country),
        debtor_agent=Agent(bic="ICBKCNBJXXX"), creditor_agent=Agent(bic=creditor_bic),
        amount=Decimal(amount), currency=currency,
    )


def test_clean_payment_clears_and_records_list_versions(screener: Screener) -> None:
    d = screen_payment(payment(), screener, (), NOW)
    assert d.outcome == "clear" and d.status == "ACSP" and d.reject() is None and d.matches == ()
    (v,) = d.list_versions
    assert v["source"] == "DEMO" and v["entries"] == 14 and len(str(v["sha256"])) == 64
    audit = audit_for(d)
    assert audit.actor == "system" and audit.kind == "automatic" and audit.outcome == "clear"


def test_chinese_original_name_is_screened_too(screener: Screener) -> None:
    d = screen_payment(payment(debtor="Zhao W.", original="赵伟明"), screener, (), NOW)
    assert d.outcome == "reject" and d.reason_code == REGULATORY
    assert any(m.party == "debtor" and m.entry == "900001" and m.screened == "赵伟明" for m in d.matches)
    rej = d.reject()
    assert rej is not None and rej.code == "RR04" and rej.stage == "screening" and "900001" in rej.text


def test_fuzzy_hit_holds_with_a_case(screener: Screener) -> None:
    d = screen_payment(payment(creditor="Felix Mordant"), screener, (), NOW)
    assert d.outcome == "hold" and d.status == "PDNG" and d.reason_code is None
    case = case_for(d, payment(creditor="Felix Mordant"))
    assert case.case_id == f"case-{d.uetr}" and case.matches[0].entry == "900009"
    assert "MORDANT" in case.reason
    again = Case.model_validate_json(case.to_bytes())
    assert again == case and again.request.amount == Decimal("1000")
    audit = audit_for(d)
    assert audit.case_id == case.case_id and "name:DEMO" in audit.rules


def test_listed_bic_and_embargoed_country(screener: Screener) -> None:
    d = screen_payment(payment(creditor_bic="NSEXKPPYXXX", creditor_country="DE"), screener, (), NOW)
    assert d.outcome == "reject"
    fields = {(m.party, m.field) for m in d.matches}
    assert ("creditor_agent", "bic") in fields and ("creditor_agent", "country") in fields  # BIC country KP
    d2 = screen_payment(payment(creditor_country="MM"), screener, (), NOW)
    assert d2.outcome == "hold" and d2.matches[0].list == "HIGH-RISK-COUNTRIES"


def test_rules_feed_the_decision(screener: Screener) -> None:
    d = screen_payment(payment(amount="60000"), screener, (), NOW)  # tier 2: 50,000 per payment
    assert d.outcome == "reject" and d.reason_code == "AM02" and d.rules[0].rule == "wallet-tier-per-payment"
    hist = tuple(PastPayment(NOW - timedelta(hours=h), Decimal("48000"), "CNY") for h in (20, 22))
    d2 = screen_payment(payment(amount="47000"), screener, hist, NOW)
    assert d2.outcome == "hold" and [r.rule for r in d2.rules] == ["structuring"]


def test_analyst_decision_and_audit(screener: Screener) -> None:
    d = screen_payment(payment(creditor="Felix Mordant"), screener, (), NOW)
    case = case_for(d, payment(creditor="Felix Mordant"))
    rel = analyst_decision(case, "release", "  different person: DOB differs ", "analyst", NOW)
    assert rel.reason == "different person: DOB differs" and rel.reason_code is None
    assert rel.list_versions == case.list_versions
    rej = analyst_decision(case, "reject", "confirmed match", "analyst", NOW)
    assert rej.reason_code == "RR04"
    audit = audit_for_analyst(rej)
    body = json.loads(audit.to_bytes())
    assert body["actor"] == "analyst" and body["kind"] == "human" and body["outcome"] == "reject"
    assert body["at"].startswith("2026-03-02T02:00") and body["list_versions"][0]["source"] == "DEMO"


def test_ultimate_parties_are_screened(screener: Screener) -> None:
    req = payment().model_copy(update={"ultimate_creditor": Party(name="Zhao W.", name_original="赵伟明")})
    d = screen_payment(req, screener, (), NOW)
    assert d.outcome == "reject"
    assert any(m.party == "ultimate_creditor" and m.entry == "900001" for m in d.matches)
    assert screen_payment(payment(), screener, (), NOW).outcome == "clear"
