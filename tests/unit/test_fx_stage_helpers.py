"""The fx stage's table logic, run against plain dicts standing in for faust tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from router.fx.pricing import Wait
from router.fx.quote import Quote
from router.fx.settings import FxSettings
from router.outcome import FX_RATE_UNAVAILABLE, Ok, Reject
from router.pipeline.fx_stage import FxTables, store_quote, tables_of

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def q(bid: str, ask: str, ts: datetime, provider: str = "P") -> Quote:
    return Quote(pair="USD/CNY", bid=Decimal(bid), ask=Decimal(ask), ts=ts, provider=provider)


def test_store_quote_keeps_the_newest_per_pair_and_provider() -> None:
    table: dict[str, str] = {}
    assert store_quote(table, q("7.1", "7.2", T0))
    assert not store_quote(table, q("6.0", "6.1", T0 - timedelta(seconds=1)))  # late, older quote
    assert store_quote(table, q("7.3", "7.4", T0 + timedelta(seconds=1)))
    assert store_quote(table, q("7.0", "7.1", T0, provider="Q"))
    assert sorted(table) == ["USD/CNY|P", "USD/CNY|Q"]
    assert json.loads(table["USD/CNY|P"])["bid"] == "7.3"


def test_tables_price_wait_then_lock_and_reuse() -> None:
    clock = [T0]
    fx = FxSettings(max_wait_s=10, max_quote_age_s=60)
    quotes: dict[str, str] = {}
    locks: dict[str, str] = {}
    waiting: dict[str, str] = {}
    t = FxTables(quotes, locks, waiting, fx, clock=lambda: clock[0])
    r = t.price("u1", Decimal("100.00"), "CNY", "USD")
    assert isinstance(r, Wait) and json.loads(waiting["u1"])["amount"] == "100.00"
    clock[0] = T0 + timedelta(seconds=5)
    store_quote(quotes, q("7.1", "7.2", T0 + timedelta(seconds=4)))
    priced = t.price("u1", Decimal("100.00"), "CNY", "USD")
    assert isinstance(priced, Ok) and not priced.value.reused
    assert "u1" not in waiting and t.lock_for("u1") == priced.value.lock
    store_quote(quotes, q("5.0", "5.1", T0 + timedelta(seconds=6)))
    again = t.price("u1", Decimal("100.00"), "CNY", "USD")
    assert isinstance(again, Ok) and again.value.reused and again.value.lock == priced.value.lock
    assert priced.value.iso_fields() == {
        "InstdAmt": (Decimal("100.00"), "CNY"), "IntrBkSttlmAmt": (Decimal("13.89"), "USD"),
        "XchgRate": Decimal("0.1388888889"),
    }
    # Another payment that never sees a quote for its pair gives up at the wait limit.
    assert isinstance(t.price("u2", Decimal("1.00"), "CNY", "THB"), Wait)
    clock[0] += timedelta(seconds=10)
    gave_up = t.price("u2", Decimal("1.00"), "CNY", "THB")
    assert isinstance(gave_up, Reject) and gave_up.code == FX_RATE_UNAVAILABLE and "u2" not in waiting


def test_tables_of_requires_the_stage() -> None:
    with pytest.raises(LookupError):
        tables_of(object())
