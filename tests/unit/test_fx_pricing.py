"""Quote format, settings, locks and the pricing of one payment (lock reuse, waiting, duplicates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from router.fx.lock import LockedQuote, MemoryLockStore, lock_quote
from router.fx.pricing import Priced, Wait, price_payment, price_with_store
from router.fx.quote import (
    Quote,
    QuoteFormatError,
    latest_per_provider,
    parse_quote,
    parse_quote_list,
)
from router.fx.settings import FxSettings
from router.outcome import DUPLICATE, FX_RATE_UNAVAILABLE, INVALID_AMOUNT, INVALID_CURRENCY, Ok, Reject

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
UETR = "8a562c67-ca16-48ba-b074-65581be6f011"
SAMPLE = b'{"pair": "USD/CNY", "bid": "7.1012", "ask": "7.1188", "ts": "2026-11-29T10:00:00Z", "provider": "FXP1"}'


def q(pair: str, bid: str, ask: str, provider: str = "FXP1", ts: datetime = T0) -> Quote:
    return Quote(pair=pair, bid=Decimal(bid), ask=Decimal(ask), ts=ts, provider=provider)


# --- quote format ---------------------------------------------------------------------------

def test_quote_json_round_trip_keeps_decimal_strings() -> None:
    quote = parse_quote(SAMPLE)
    assert (quote.pair, quote.bid, quote.ask, quote.ts, quote.provider) == (
        "USD/CNY", Decimal("7.1012"), Decimal("7.1188"), T0, "FXP1")
    assert (quote.base, quote.counter, quote.derived) == ("USD", "CNY", False)
    assert json.loads(quote.to_json()) == json.loads(SAMPLE)
    assert parse_quote(quote.to_json()) == quote
    derived = parse_quote(b'{"pair":"USD/AED","bid":"3.67","ask":"3.68","ts":"2026-11-29T10:00:00+04:00",'
                          b'"provider":"P","derived":true}')
    assert derived.derived and derived.ts == T0 - timedelta(hours=4)
    assert json.loads(derived.to_json())["derived"] is True


@pytest.mark.parametrize("raw", [
    b'{"pair": "USD/CNY", "bid": 7.1012, "ask": "7.1188", "ts": "2026-11-29T10:00:00Z", "provider": "P"}',
    b'{"pair": "USD/CNY", "bid": "7.2", "ask": "7.1", "ts": "2026-11-29T10:00:00Z", "provider": "P"}',
    b'{"pair": "USD/CNY", "bid": "-1", "ask": "7.1", "ts": "2026-11-29T10:00:00Z", "provider": "P"}',
    b'{"pair": "USD/CNY", "bid": "x", "ask": "7.1", "ts": "2026-11-29T10:00:00Z", "provider": "P"}',
    b'{"pair": "USD-CNY", "bid": "7", "ask": "7.1", "ts": "2026-11-29T10:00:00Z", "provider": "P"}',
    b'{"pair": "USD/USD", "bid": "1", "ask": "1", "ts": "2026-11-29T10:00:00Z", "provider": "P"}',
    b'{"pair": "USD/CNY", "bid": "7", "ask": "7.1", "ts": "2026-11-29T10:00:00", "provider": "P"}',
    b'{"pair": "USD/CNY", "bid": "7", "ask": "7.1", "ts": "2026-11-29T10:00:00Z"}',
    b'not json',
])
def test_malformed_quotes_are_refused(raw: bytes) -> None:
    with pytest.raises(QuoteFormatError):
        parse_quote(raw)


def test_quote_list_and_latest_per_provider() -> None:
    older = SAMPLE.replace(b"10:00:00Z", b"09:00:00Z").replace(b"7.1012", b"7.0000")
    quotes = parse_quote_list(b"[" + older + b"," + SAMPLE + b"]")
    latest = latest_per_provider(quotes)
    assert list(latest) == ["USD/CNY|FXP1"] and latest["USD/CNY|FXP1"].bid == Decimal("7.1012")
    with pytest.raises(QuoteFormatError, match="quote #1"):
        parse_quote_list(b"[" + SAMPLE + b", {}]")
    with pytest.raises(QuoteFormatError, match="list"):
        parse_quote_list(SAMPLE)


# --- settings -------------------------------------------------------------------------------

def test_corridor_spread_applies_both_ways_and_defaults() -> None:
    s = FxSettings(spread_bps=Decimal(10), corridor_spread_bps={"cny/usd": Decimal(30)})
    assert s.spread_for("CNY", "USD") == s.spread_for("USD", "CNY") == Decimal(30)
    assert s.spread_for("CNY", "JPY") == Decimal(10)
    assert s.cross_currencies == ("USD", "EUR")


@pytest.mark.parametrize("kw", [
    {"spread_bps": Decimal(-1)}, {"spread_bps": Decimal(10000)}, {"corridor_spread_bps": {"CNYUSD": Decimal(1)}},
    {"corridor_spread_bps": {"CNY/USD": Decimal(10000)}}, {"max_quote_age_s": 0}, {"lock_ttl_s": -1},
    {"cross_currencies": ("usd",)},
])
def test_bad_fx_settings_stop_start_up(kw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FxSettings(**kw)  # type: ignore[arg-type]


def test_fx_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from router.config import Settings

    monkeypatch.setenv("ROUTER_FX__CORRIDOR_SPREAD_BPS", '{"CNY/USD": "30"}')
    monkeypatch.setenv("ROUTER_FX__CROSS_CURRENCIES", '["EUR", "USD"]')
    monkeypatch.setenv("ROUTER_FX__MAX_QUOTE_AGE_S", "120")
    s = Settings().fx
    assert s.spread_for("USD", "CNY") == Decimal(30) and s.cross_currencies == ("EUR", "USD")
    assert s.max_quote_age == timedelta(seconds=120)


# --- pricing and locks ----------------------------------------------------------------------

SETTINGS = FxSettings(spread_bps=Decimal(20), max_quote_age_s=60, max_wait_s=30, retry_interval_s=2,
                      lock_ttl_s=600)


def priced(r: Ok[Priced] | Reject | Wait) -> Priced:
    assert isinstance(r, Ok), r
    return r.value


def test_price_payment_locks_a_quote_with_everything_the_iso_builder_needs() -> None:
    now = T0 + timedelta(seconds=10)
    p = priced(price_payment(UETR, Decimal("1000.00"), "CNY", "USD", [q("USD/CNY", "7.1012", "7.1188")], None,
                             now, SETTINGS))
    assert not p.reused
    assert (p.instructed_amount, p.instructed_ccy, p.settlement_ccy) == (Decimal("1000.00"), "CNY", "USD")
    assert p.settlement_amount == Decimal("140.19")  # 1000 / 7.1188 * 0.998 = 140.1921
    assert p.quoted_pair == "USD/CNY"
    assert abs(p.quoted_rate * p.rate - 1) < Decimal("1e-26")
    assert p.xchg_rate == Decimal("0.1401921672")
    assert p.expires_at == now + timedelta(minutes=10) and p.lock.locked_at == now
    assert p.route == ("CNY", "USD") and p.provider == "FXP1" and p.quote_id.startswith("FXQ-")
    d = p.to_dict()
    assert d["amount_out"] == "140.19" and d["expires_at"] == "2026-11-29T10:10:10Z" and d["status"] == "PRICED"
    assert LockedQuote.model_validate_json(p.lock.model_dump_json()) == p.lock


def test_quote_id_is_deterministic_per_payment_and_quote() -> None:
    quotes = [q("USD/CNY", "7.1012", "7.1188")]
    a = priced(price_payment(UETR, Decimal("5.00"), "CNY", "USD", quotes, None, T0, SETTINGS))
    b = priced(price_payment(UETR, Decimal("5.00"), "CNY", "USD", quotes, None, T0 + timedelta(seconds=5), SETTINGS))
    c = priced(price_payment("other-uetr", Decimal("5.00"), "CNY", "USD", quotes, None, T0, SETTINGS))
    d = priced(price_payment(UETR, Decimal("5.00"), "CNY", "USD", [q("USD/CNY", "7.1012", "7.1189")], None, T0,
                             SETTINGS))
    assert a.quote_id == b.quote_id
    assert len({a.quote_id, c.quote_id, d.quote_id}) == 3


def test_existing_lock_is_reused_even_after_new_quotes_and_expiry() -> None:
    store = MemoryLockStore()
    first = priced(price_with_store(store, UETR, Decimal("1000.00"), "CNY", "USD",
                                    [q("USD/CNY", "7.1012", "7.1188")], T0, SETTINGS))
    assert len(store) == 1
    later = T0 + timedelta(hours=2)
    newer = [q("USD/CNY", "6.5", "6.6", "FXP9", ts=later)]
    again = priced(price_with_store(store, UETR, Decimal("1000.00"), "CNY", "USD", newer, later, SETTINGS))
    assert again.reused and again.lock == first.lock
    assert not again.lock.is_live(later) and first.lock.is_live(T0 + timedelta(seconds=599))
    assert not first.lock.is_live(T0 + timedelta(seconds=600))
    # Even with no quotes at all, a priced payment is answered from its lock.
    assert priced(price_payment(UETR, Decimal("1000.00"), "CNY", "USD", [], first.lock, later, SETTINGS)).reused


def test_same_uetr_different_request_is_a_duplicate() -> None:
    lock = priced(price_payment(UETR, Decimal("1000.00"), "CNY", "USD", [q("USD/CNY", "7.1", "7.2")], None, T0,
                                SETTINGS)).lock
    for amount, ccy_from, ccy_to in [("1000.01", "CNY", "USD"), ("1000.00", "CNY", "EUR"), ("1000.00", "HKD", "USD")]:
        r = price_payment(UETR, Decimal(amount), ccy_from, ccy_to, [], lock, T0, SETTINGS)
        assert isinstance(r, Reject) and r.code == DUPLICATE and lock.quote_id in r.text


def test_no_fresh_quote_waits_then_rejects_at_the_limit() -> None:
    stale = [q("USD/CNY", "7.1", "7.2", ts=T0 - timedelta(seconds=61))]
    w = price_payment(UETR, Decimal("1.00"), "CNY", "USD", stale, None, T0, SETTINGS)
    assert isinstance(w, Wait) and "stale" in w.reason
    assert (w.waiting_since, w.retry_at, w.give_up_at) == (T0, T0 + timedelta(seconds=2), T0 + timedelta(seconds=30))
    w2 = price_payment(UETR, Decimal("1.00"), "CNY", "USD", stale, None, T0 + timedelta(seconds=29), SETTINGS,
                       waiting_since=T0)
    assert isinstance(w2, Wait) and w2.retry_at == T0 + timedelta(seconds=30)
    r = price_payment(UETR, Decimal("1.00"), "CNY", "USD", stale, None, T0 + timedelta(seconds=30), SETTINGS,
                      waiting_since=T0)
    assert isinstance(r, Reject) and r.code == FX_RATE_UNAVAILABLE and "30 s" in r.text
    fresh = [q("USD/CNY", "7.1", "7.2", ts=T0 + timedelta(seconds=20))]
    ok = price_payment(UETR, Decimal("1.00"), "CNY", "USD", fresh, None, T0 + timedelta(seconds=25), SETTINGS,
                       waiting_since=T0)
    assert isinstance(ok, Ok)


def test_bad_input_rejects_without_waiting() -> None:
    r = price_payment(UETR, Decimal("1.00"), "CNY", "ZZZ", [], None, T0, SETTINGS)
    assert isinstance(r, Reject) and r.code == INVALID_CURRENCY
    r = price_payment(UETR, Decimal("1.5"), "JPY", "USD", [], None, T0, SETTINGS)
    assert isinstance(r, Reject) and r.code == INVALID_AMOUNT


def test_lock_quote_sets_expiry_from_ttl() -> None:
    from router.fx.convert import convert

    conv = convert(Decimal("10.00"), "USD", "CNY", [q("USD/CNY", "7.1", "7.2")], T0, Decimal(0),
                   max_age=timedelta(minutes=1))
    assert isinstance(conv, Ok)
    lock = lock_quote(UETR, conv.value, T0, 90)
    assert lock.expires_at == T0 + timedelta(seconds=90) and lock.amount_out == Decimal("71.00")


def test_amount_and_currency_checks_answer_with_reason_codes() -> None:
    from router.fx.currency import check_currency, parse_amount

    ok = parse_amount("10.50", "CNY")
    assert isinstance(ok, Ok) and ok.value == Decimal("10.50")
    bad_amount = parse_amount("1.234", "CNY")
    assert isinstance(bad_amount, Reject) and bad_amount.code == INVALID_AMOUNT
    bad_ccy = check_currency("QQQ")
    assert isinstance(bad_ccy, Reject) and bad_ccy.code == INVALID_CURRENCY
