"""The velocity book over the screening stage's store (the code the live stage runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from router.screening.loaders import load_list
from router.screening.model import Party, ScreeningRequest
from router.screening.screener import Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings
from router.screening.velocity import VelocityBook
from router.streams.store import Store

SCREENER = Screener([load_list(DEMO_LIST)], ScreeningSettings())
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def usd(uetr: str, amount: str, debtor_id: str = "acct-1") -> ScreeningRequest:
    return ScreeningRequest(uetr=uetr, debtor=Party(name="Hans Muller", account=debtor_id, country="DE"),
                            creditor=Party(name="Anna Meyer", account="x", country="DE"), amount=Decimal(amount),
                            currency="USD", debtor_id=debtor_id)


def test_structuring_across_calls_per_debtor() -> None:
    store = Store(0)
    book = VelocityBook(store)
    outs = [book.screen(usd(f"u{i}", "9800"), SCREENER, T0 + timedelta(hours=i)).screened.decision.outcome
            for i in range(3)]
    assert outs == ["clear", "clear", "hold"]
    assert set(store.staged) == {"acct-1"} and len(book.history("acct-1")[0]) == 3
    # Another debtor has its own window; the first debtor's window slides past 24 h.
    assert book.screen(usd("v1", "9800", "acct-2"), SCREENER, T0).screened.decision.outcome == "clear"
    later = book.screen(usd("u9", "9800"), SCREENER, T0 + timedelta(hours=27)).screened
    assert later.decision.outcome == "clear" and len(book.history("acct-1")[0]) == 2


def test_corrupt_value_starts_afresh() -> None:
    store = Store(0)
    store.load("screening.velocity", "acct-1", b"{not json")
    book = VelocityBook(store)
    history, corrupt = book.history("acct-1")
    assert history == () and corrupt is not None and corrupt.value == b"{not json"
    result = book.screen(usd("u1", "100"), SCREENER, T0)
    assert result.screened.decision.outcome == "clear" and result.corrupt is not None
    assert len(book.history("acct-1")[0]) == 1 and book.history("acct-1")[1] is None
