"""Conversion: quote sides, best rate across providers, crossing, spread, rounding, staleness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from router.fx.convert import Conversion, base_one_rate, best_quote, convert, find_route
from router.fx.currency import check_amount, minor_units, parse_amount, round_amount
from router.fx.quote import Quote
from router.outcome import FX_RATE_UNAVAILABLE, INVALID_AMOUNT, INVALID_CURRENCY, Ok, Reject

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(seconds=30)
AGE = timedelta(minutes=5)


def q(pair: str, bid: str, ask: str, provider: str = "FXP1", ts: datetime = T0) -> Quote:
    return Quote(pair=pair, bid=Decimal(bid), ask=Decimal(ask), ts=ts, provider=provider)


def ok(result: Ok[Conversion] | Reject) -> Conversion:
    assert isinstance(result, Ok), result
    return result.value


def test_minor_units_come_from_iso4217() -> None:
    assert (minor_units("CNY"), minor_units("JPY"), minor_units("KWD"), minor_units("CLF")) == (2, 0, 3, 4)
    assert minor_units("XAU") is None  # gold has no minor unit: not payable
    assert minor_units("ABC") is None and minor_units("cny") is None


def test_payer_paying_cny_for_usd_buys_usd_at_the_ask() -> None:
    c = ok(convert(Decimal("1000.00"), "CNY", "USD", [q("USD/CNY", "7.1012", "7.1188")], NOW, Decimal(0),
                   max_age=AGE))
    assert c.exact_rate == 1 / Fraction("7.1188")
    assert c.amount_out == Decimal("140.47")  # 1000 / 7.1188 = 140.4731...
    assert c.route == ("CNY", "USD") and c.quoted_pair == "USD/CNY" and c.quoted_rate == Decimal("7.1188")


def test_payer_paying_usd_for_cny_sells_usd_at_the_bid() -> None:
    c = ok(convert(Decimal("100.00"), "USD", "CNY", [q("USD/CNY", "7.1012", "7.1188")], NOW, Decimal(0),
                   max_age=AGE))
    assert c.amount_out == Decimal("710.12")
    assert c.rate == Decimal("7.1012")


def test_spread_is_taken_off_the_payers_rate() -> None:
    c = ok(convert(Decimal("100.00"), "USD", "CNY", [q("USD/CNY", "7.1012", "7.1188")], NOW, Decimal(50),
                   max_age=AGE))
    assert c.exact_rate == Fraction("7.1012") * Fraction(9950, 10000)
    assert c.amount_out == Decimal("706.57")  # 710.12 * 0.995 = 706.5694
    assert c.market_rate == Fraction("7.1012")


def test_best_rate_for_the_payer_across_providers() -> None:
    quotes = [
        q("USD/CNY", "7.1012", "7.1188", "FXP1"),
        q("USD/CNY", "7.1050", "7.1150", "FXP2"),  # cheapest USD for a CNY payer, best CNY for a USD payer
        q("CNY/USD", "0.14030", "0.14090", "FXP3"),  # inverted pair from a third provider
    ]
    assert best_quote(quotes, "CNY", "USD") is quotes[1]
    assert best_quote(quotes, "USD", "CNY") is quotes[1]
    cheaper = [q("USD/CNY", "7.1012", "7.1188", "FXP1"), q("CNY/USD", "0.14060", "0.14100", "FXP3")]
    # Selling CNY (base of CNY/USD) at FXP3's bid 0.1406 beats buying USD at 1/7.1188 = 0.14047.
    assert best_quote(cheaper, "CNY", "USD") is cheaper[1]
    c = ok(convert(Decimal("1000.00"), "CNY", "USD", cheaper, NOW, Decimal(0), max_age=AGE))
    assert (c.provider, c.amount_out, c.quoted_pair) == ("FXP3", Decimal("140.60"), "CNY/USD")


def test_no_direct_quote_crosses_through_usd_then_eur() -> None:
    legs = [q("USD/CNY", "7.10", "7.12", "A"), q("USD/JPY", "150.0", "150.2", "B"),
            q("EUR/CNY", "7.70", "7.72", "C"), q("EUR/JPY", "160", "161", "C")]
    c = ok(convert(Decimal("1000.00"), "CNY", "JPY", legs, NOW, Decimal(0), max_age=AGE))
    assert c.route == ("CNY", "USD", "JPY") and c.provider == "A+B"
    assert c.exact_rate == Fraction(150) / Fraction("7.12")
    assert c.amount_out == Decimal("21067")  # 1000 / 7.12 * 150 = 21067.4157...
    assert c.quoted_pair == "CNY/JPY"
    c = ok(convert(Decimal("1000.00"), "CNY", "JPY", legs, NOW, Decimal(0), max_age=AGE, cross=("EUR", "USD")))
    assert c.route == ("CNY", "EUR", "JPY") and c.provider == "C"
    only_eur = legs[2:]
    assert ok(convert(Decimal(1), "CNY", "JPY", only_eur, NOW, Decimal(0), max_age=AGE)).route[1] == "EUR"


def test_direct_quote_preferred_to_a_cross() -> None:
    quotes = [q("USD/CNY", "7.10", "7.12"), q("USD/JPY", "150.0", "150.2"), q("CNY/JPY", "20.0", "20.1")]
    route = find_route(quotes, "CNY", "JPY", ("USD",))
    assert route is not None and route.currencies == ("CNY", "JPY")


def test_rounding_is_half_even_to_the_target_minor_units() -> None:
    assert round_amount(Fraction(2125, 1000), "USD") == Decimal("2.12")
    assert round_amount(Fraction(2135, 1000), "USD") == Decimal("2.14")
    assert round_amount(Fraction(5, 2), "JPY") == Decimal("2")
    assert round_amount(Fraction(7, 2), "JPY") == Decimal("4")
    assert str(round_amount(Fraction(1, 3), "KWD")) == "0.333"
    c = ok(convert(Decimal("1"), "KWD", "JPY", [q("KWD/JPY", "489.5", "490.5")], NOW, Decimal(0), max_age=AGE))
    assert str(c.amount_out) == "490"  # 489.5 rounds to even
    c = ok(convert(Decimal("100"), "JPY", "KWD", [q("KWD/JPY", "489.5", "490.5")], NOW, Decimal(0), max_age=AGE))
    assert str(c.amount_out) == "0.204"  # 100 / 490.5 = 0.20387...


def test_stale_future_and_missing_rates_are_unavailable() -> None:
    fresh = q("USD/CNY", "7.10", "7.12", ts=NOW - AGE)
    assert isinstance(convert(Decimal(1), "CNY", "USD", [fresh], NOW, Decimal(0), max_age=AGE), Ok)
    stale = q("USD/CNY", "7.10", "7.12", ts=NOW - AGE - timedelta(seconds=1))
    r = convert(Decimal(1), "CNY", "USD", [stale], NOW, Decimal(0), max_age=AGE)
    assert isinstance(r, Reject) and r.code == FX_RATE_UNAVAILABLE and "stale" in r.text and "301 s" in r.text
    future = q("USD/CNY", "7.10", "7.12", ts=NOW + timedelta(seconds=60))
    r = convert(Decimal(1), "CNY", "USD", [future], NOW, Decimal(0), max_age=AGE)
    assert isinstance(r, Reject) and r.code == FX_RATE_UNAVAILABLE and "dated later" in r.text
    r = convert(Decimal(1), "CNY", "GBP", [fresh], NOW, Decimal(0), max_age=AGE)
    assert isinstance(r, Reject) and r.code == FX_RATE_UNAVAILABLE and "no rate" in r.text
    # A fresh cross beats a stale direct quote.
    quotes = [stale.model_copy(update={"pair": "CNY/JPY"}), q("USD/CNY", "7.1", "7.2"), q("USD/JPY", "150", "151")]
    assert ok(convert(Decimal(1), "CNY", "JPY", quotes, NOW, Decimal(0), max_age=AGE)).route == ("CNY", "USD", "JPY")


def test_bad_currencies_and_amounts_are_rejected() -> None:
    quotes = [q("USD/CNY", "7.10", "7.12")]
    for amount, ccy, code in [
        (Decimal("-1.00"), "CNY", INVALID_AMOUNT), (Decimal("0"), "CNY", INVALID_AMOUNT),
        (Decimal("1.001"), "CNY", INVALID_AMOUNT), (Decimal("NaN"), "CNY", INVALID_AMOUNT),
        (Decimal("1"), "XXX", INVALID_CURRENCY), (Decimal("1"), "XAU", INVALID_CURRENCY),
    ]:
        r = convert(amount, ccy, "USD", quotes, NOW, Decimal(0), max_age=AGE)
        assert isinstance(r, Reject) and r.code == code, (amount, ccy, r)
    r = convert(Decimal(1), "USD", "USD", quotes, NOW, Decimal(0), max_age=AGE)
    assert isinstance(r, Reject) and r.code == INVALID_CURRENCY


@pytest.mark.parametrize(("text", "ccy", "expected"), [
    ("1000", "CNY", "1000.00"), ("1000.5", "CNY", "1000.50"), ("12", "JPY", "12"), ("1.125", "KWD", "1.125"),
    (" 7.10 ", "USD", "7.10"),
])
def test_parse_amount_accepts(text: str, ccy: str, expected: str) -> None:
    r = parse_amount(text, ccy)
    assert isinstance(r, Ok) and str(r.value) == expected


@pytest.mark.parametrize(("text", "ccy"), [
    ("-5", "CNY"), ("0", "CNY"), ("1.001", "CNY"), ("1.5", "JPY"), ("1.0", "JPY"), ("abc", "CNY"), ("1e3", "CNY"),
    ("1,000", "CNY"), ("", "CNY"), ("Infinity", "CNY"), ("1.1.1", "CNY"), ("1" * 19, "JPY"),
])
def test_parse_amount_refuses(text: str, ccy: str) -> None:
    r = parse_amount(text, ccy)
    assert isinstance(r, Reject) and r.code == INVALID_AMOUNT


def test_check_amount_unknown_currency() -> None:
    r = check_amount(Decimal(1), "ZZZ")
    assert isinstance(r, Reject) and r.code == INVALID_CURRENCY


def test_base_one_rate_fits_iso_xchg_rate() -> None:
    assert base_one_rate(Decimal("0.1404731134460864190593920324")) == Decimal("0.1404731134")
    assert base_one_rate(Decimal("21.08501432825757150081474406")) == Decimal("21.085014328")
    assert str(base_one_rate(Decimal("150.00"))) == "150"
    assert str(base_one_rate(Decimal("100"))) == "100"
