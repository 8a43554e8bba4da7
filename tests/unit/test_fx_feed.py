"""The ECB replay feed: real bundled ECB history, spreads around mid, USD-pegged currencies derived."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connectors.fx_feed import DEFAULT_CURRENCIES, day_quotes, ecb_history, latest_ecb_day

TS = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_history_is_the_real_ecb_series() -> None:
    # First day of the euro: the ECB fixed EUR/USD at 1.1789 and EUR/JPY at 133.73 on 1999-01-04.
    day, rates = next(ecb_history(date(1999, 1, 1), date(1999, 1, 10)))
    assert day == date(1999, 1, 4)
    assert rates["USD"] == Decimal("1.1789") and rates["JPY"] == Decimal("133.73")
    assert "CNY" not in rates  # the ECB started publishing CNY in 2005
    # Weekends are not ECB business days.
    days = [d for d, _ in ecb_history(date(2024, 3, 1), date(2024, 3, 10))]
    assert all(d.weekday() < 5 for d in days) and len(days) == 6


def test_latest_day_has_the_corridor_currencies() -> None:
    day, rates = latest_ecb_day()
    for ccy in ("CNY", "HKD", "SGD", "THB", "JPY", "USD"):
        assert rates[ccy] > 0, ccy
    assert day.year >= 2024


def test_day_quotes_spread_around_mid_and_derive_pegs() -> None:
    rates = {"USD": Decimal("1.1000"), "CNY": Decimal("7.8100"), "JPY": Decimal("165.00")}
    quotes = {q.pair: q for q in day_quotes(date(2026, 10, 30), rates, spread_bps=Decimal(20), ts=TS)}
    eur_cny = quotes["EUR/CNY"]
    assert eur_cny.bid < Decimal("7.8100") < eur_cny.ask
    assert eur_cny.bid == Decimal("7.80219") and eur_cny.ask == Decimal("7.81781")  # +-10 bps
    usd_cny = quotes["USD/CNY"]
    assert usd_cny.bid < Decimal("7.1") < usd_cny.ask and not usd_cny.derived  # 7.81 / 1.10
    aed = quotes["USD/AED"]
    assert aed.derived and aed.bid < Decimal("3.6725") < aed.ask
    assert quotes["EUR/SAR"].derived and quotes["EUR/SAR"].bid < Decimal("4.125") < quotes["EUR/SAR"].ask
    assert all(q.ts == TS and q.source_date == date(2026, 10, 30) for q in quotes.values())
    assert "EUR/EUR" not in quotes and "USD/USD" not in quotes and "EUR/USD" in quotes
    # Currencies the ECB did not publish that day are simply absent, not invented.
    assert "EUR/HKD" not in quotes and set(DEFAULT_CURRENCIES) >= {"AED", "SAR", "HKD"}


def test_feed_quotes_price_a_real_conversion() -> None:
    from datetime import timedelta

    from router.fx.convert import convert
    from router.outcome import Ok

    day, rates = latest_ecb_day()
    quotes = day_quotes(day, rates, spread_bps=Decimal(10), ts=TS)
    r = convert(Decimal("1000.00"), "CNY", "AED", quotes, TS, Decimal(0), max_age=timedelta(minutes=1))
    assert isinstance(r, Ok) and r.value.route == ("CNY", "USD", "AED")  # no direct quote: crossed
    mid = Decimal(1000) / (rates["CNY"] / rates["USD"]) * Decimal("3.6725")
    assert abs(r.value.amount_out - mid) / mid < Decimal("0.002")
