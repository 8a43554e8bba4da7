"""Properties of FX conversion (hypothesis): rounding bound, scale, best rate, cross vs direct, clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from router.fx.convert import convert
from router.fx.currency import minor_units
from router.fx.pricing import Wait, price_payment
from router.fx.quote import Quote
from router.fx.settings import FxSettings
from router.outcome import FX_RATE_UNAVAILABLE, Ok, Reject

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
AGE = timedelta(minutes=5)
CCYS = ["CNY", "USD", "JPY", "KWD", "EUR", "HKD", "BHD", "THB", "CLF", "IDR"]


@st.composite
def amounts(draw: st.DrawFn, ccy: str) -> Decimal:
    exp = minor_units(ccy)
    assert exp is not None
    units = draw(st.integers(min_value=1, max_value=10 ** (15 - exp)))
    return Decimal(units).scaleb(-exp)


rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50000"), places=6, allow_nan=False,
                    allow_infinity=False).filter(lambda d: d > 0)
spreads = st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=2)


@st.composite
def pair_case(draw: st.DrawFn) -> tuple[str, str, Decimal, Quote, Decimal]:
    a, b = draw(st.lists(st.sampled_from(CCYS), min_size=2, max_size=2, unique=True))
    bid = draw(rates)
    ask = bid + draw(st.decimals(min_value=Decimal(0), max_value=bid / 50, places=6))
    quote = Quote(pair=f"{a}/{b}", bid=bid, ask=ask, ts=T0, provider="P")
    sell, buy = draw(st.sampled_from([(a, b), (b, a)]))
    return sell, buy, draw(amounts(sell)), quote, draw(spreads)


@settings(max_examples=400, deadline=None)
@given(pair_case())
def test_never_more_than_half_a_minor_unit_from_exact_arithmetic(
    case: tuple[str, str, Decimal, Quote, Decimal],
) -> None:
    sell, buy, amount, quote, spread = case
    r = convert(amount, sell, buy, [quote], T0, spread, max_age=AGE)
    assert isinstance(r, Ok), r
    out = r.value.amount_out
    exp = minor_units(buy)
    assert exp is not None
    assert out.as_tuple().exponent == -exp  # the currency's minor-unit scale, always
    # Exact arithmetic, computed independently from the quote's own strings.
    side = 1 / Fraction(quote.ask) if quote.base == buy else Fraction(quote.bid)
    exact = Fraction(amount) * side * (1 - Fraction(spread) / 10000)
    assert abs(Fraction(out) - exact) <= Fraction(1, 2 * 10**exp)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(rates, st.integers(0, 200)), min_size=1, max_size=6), amounts("CNY"),
       st.booleans())
def test_best_rate_across_providers_is_at_least_any_single_provider(
    offers: list[tuple[Decimal, int]], amount: Decimal, inverted: bool
) -> None:
    quotes = []
    for i, (mid, bps) in enumerate(offers):
        half = mid * bps / 20000
        bid, ask = (mid - half).quantize(Decimal("1e-8")), (mid + half).quantize(Decimal("1e-8"))
        if bid <= 0:
            continue
        pair = "CNY/USD" if inverted and i % 2 else "USD/CNY"
        quotes.append(Quote(pair=pair, bid=bid, ask=ask, ts=T0, provider=f"P{i}"))
    if not quotes:
        return
    best = convert(amount, "CNY", "USD", quotes, T0, Decimal(0), max_age=AGE)
    assert isinstance(best, Ok)
    for q in quotes:
        single = convert(amount, "CNY", "USD", [q], T0, Decimal(0), max_age=AGE)
        assert isinstance(single, Ok)
        assert best.value.exact_rate >= single.value.exact_rate
        assert best.value.amount_out >= single.value.amount_out


def _bracket(mid: Fraction, half_spread: Fraction) -> tuple[Decimal, Decimal]:
    """bid/ask around mid, rounded outwards to 12 digits so they still bracket it."""
    lo, hi = mid * (1 - half_spread), mid * (1 + half_spread)
    down, up = Context(prec=12, rounding=ROUND_FLOOR), Context(prec=12, rounding=ROUND_CEILING)
    return (down.divide(Decimal(lo.numerator), Decimal(lo.denominator)),
            up.divide(Decimal(hi.numerator), Decimal(hi.denominator)))


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=Fraction(1, 100), max_value=Fraction(20000)),
       st.fractions(min_value=Fraction(1, 100), max_value=Fraction(20000)),
       st.integers(min_value=1, max_value=200), amounts("CNY"), spreads)
def test_cross_rates_agree_with_direct_within_the_spread(
    usd_cny: Fraction, usd_jpy: Fraction, bps: int, amount: Decimal, router_spread: Decimal
) -> None:
    h = Fraction(bps, 20000)  # half of the quotes' bid/ask spread
    legs = []
    for pair, mid in (("USD/CNY", usd_cny), ("USD/JPY", usd_jpy)):
        bid, ask = _bracket(mid, h)
        legs.append(Quote(pair=pair, bid=bid, ask=ask, ts=T0, provider="L"))
    cross_mid = usd_jpy / usd_cny  # JPY per CNY
    bid, ask = _bracket(cross_mid, h)
    direct = Quote(pair="CNY/JPY", bid=bid, ask=ask, ts=T0, provider="D")
    for sell, buy, mid in (("CNY", "JPY", cross_mid), ("JPY", "CNY", 1 / cross_mid)):
        amt = amount if sell == "CNY" else amount.quantize(Decimal(1)) + 1
        c = convert(amt, sell, buy, legs, T0, router_spread, max_age=AGE)
        d = convert(amt, sell, buy, [direct], T0, router_spread, max_age=AGE)
        assert isinstance(c, Ok) and isinstance(d, Ok)
        assert len(c.value.route) == 3 and len(d.value.route) == 2
        keep = 1 - Fraction(router_spread) / 10000
        # Neither route beats mid; both are within the quotes' spread of it (2 legs: twice).
        for conv, width in ((c.value, 2 * h), (d.value, h)):
            assert conv.exact_rate <= mid * keep
            assert conv.exact_rate >= mid * keep * (1 - width - Fraction(1, 10**9))
        assert abs(c.value.exact_rate - d.value.exact_rate) <= mid * keep * (2 * h + Fraction(1, 10**9))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-3600, max_value=3600), st.integers(min_value=1, max_value=1800),
       st.integers(min_value=0, max_value=30))
def test_staleness_follows_the_injected_clock(offset_s: int, max_age_s: int, skew_s: int) -> None:
    quote = Quote(pair="USD/CNY", bid=Decimal("7.1"), ask=Decimal("7.2"), ts=T0, provider="P")
    now = T0 + timedelta(seconds=offset_s)
    r = convert(Decimal("100.00"), "CNY", "USD", [quote], now, Decimal(0), max_age=timedelta(seconds=max_age_s),
                max_skew=timedelta(seconds=skew_s))
    usable = -skew_s <= offset_s <= max_age_s
    assert isinstance(r, Ok) == usable
    if not usable:
        assert isinstance(r, Reject) and r.code == FX_RATE_UNAVAILABLE


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=7200), st.integers(min_value=1, max_value=3600),
       st.integers(min_value=0, max_value=600), st.integers(min_value=1, max_value=60))
def test_lock_expiry_and_wait_limit_follow_the_injected_clock(
    later_s: int, ttl_s: int, max_wait_s: int, retry_s: int
) -> None:
    fx = FxSettings(lock_ttl_s=ttl_s, max_wait_s=max_wait_s, retry_interval_s=retry_s, max_quote_age_s=60)
    quote = Quote(pair="USD/CNY", bid=Decimal("7.1"), ask=Decimal("7.2"), ts=T0, provider="P")
    first = price_payment("u", Decimal("10.00"), "CNY", "USD", [quote], None, T0, fx)
    assert isinstance(first, Ok)
    later = T0 + timedelta(seconds=later_s)
    assert first.value.lock.is_live(later) == (later_s < ttl_s)
    again = price_payment("u", Decimal("10.00"), "CNY", "USD", [], first.value.lock, later, fx)
    assert isinstance(again, Ok) and again.value.lock == first.value.lock
    # No quote at all: wait until max_wait after the first attempt, then reject.
    waited = price_payment("v", Decimal("10.00"), "CNY", "USD", [], None, later, fx, waiting_since=T0)
    if later_s >= max_wait_s:
        assert isinstance(waited, Reject) and waited.code == FX_RATE_UNAVAILABLE
    else:
        assert isinstance(waited, Wait)
        assert later < waited.retry_at <= T0 + timedelta(seconds=max_wait_s) == waited.give_up_at
