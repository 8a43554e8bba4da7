"""The pipeline-facing call: decision, records and velocity history in one pure step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from router.screening.loaders import load_list
from router.screening.model import Agent, Party, ScreeningRequest
from router.screening.screener import Screener
from router.screening.service import screen
from router.screening.settings import DEMO_LIST, ScreeningSettings

SCREENER = Screener([load_list(DEMO_LIST)], ScreeningSettings())
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def req(uetr: str, amount: str, creditor: str = "Hans Muller", country: str = "DE") -> ScreeningRequest:
    return ScreeningRequest(uetr=uetr, debtor=Party(name="Wang Fang", account="0034000000000001", country="CN",
                                                    address="Shanghai", wallet_tier=3, is_ecny_wallet=True),
                            creditor=Party(name=creditor, account="DE89370400440532013000", country=country),
                            debtor_agent=Agent(bic="ICBKCNBJXXX"), creditor_agent=Agent(bic="DEUTDEFFXXX"),
                            amount=Decimal(amount), currency="CNY", debtor_id="0034000000000001")


def test_daily_wallet_limit_accumulates_through_the_returned_history() -> None:
    history = ()
    outcomes = []
    for i in range(4):  # tier 3: 5,000 per payment, 10,000 per day
        s = screen(req(f"u{i}", "3000"), SCREENER, history, T0 + timedelta(minutes=i))
        outcomes.append(s.decision.outcome)
        history = s.history
        assert s.audit.uetr == f"u{i}" and s.audit.kind == "automatic"
    assert outcomes == ["clear", "clear", "clear", "reject"]
    assert len(history) == 3  # the refused payment does not count
    nxt = screen(req("u9", "3000"), SCREENER, history, T0 + timedelta(days=1))
    assert nxt.decision.outcome == "clear"


def test_hold_produces_a_case_and_reject_a_reason_code() -> None:
    held = screen(req("h1", "100", creditor="Felix Mordant"), SCREENER, (), T0)
    assert held.decision.outcome == "hold" and held.case is not None and held.case.uetr == "h1"
    assert held.audit.case_id == held.case.case_id
    rej = screen(req("r1", "100", creditor="Zhao Weiming", country="CN"), SCREENER, (), T0)
    assert rej.case is None and rej.decision.reject() is not None and rej.decision.reason_code == "RR04"
    # The listed ZHAO, Weiming lives in China: the same name in Germany is held, not refused.
    other = screen(req("r2", "100", creditor="Zhao Weiming", country="DE"), SCREENER, (), T0)
    assert other.decision.outcome == "hold" and "contradicts: country: payment DE, list CN" in other.decision.reason
