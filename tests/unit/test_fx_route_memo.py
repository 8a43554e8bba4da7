"""The route memo in ``convert``: a book handed over again as the same tuple gives exactly what a
fresh computation over a list gives, across times when quotes come into and go out of freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from router.fx.convert import convert
from router.fx.quote import Quote
from router.outcome import Ok

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
AGE = timedelta(seconds=60)
SKEW = timedelta(seconds=5)
PAIRS = ("USD/CNY", "EUR/USD", "EUR/CNY", "USD/HKD")
CCYS = ("CNY", "USD", "EUR", "HKD")

quotes = st.builds(
    lambda pair, bid, spread, provider, offset: Quote(
        pair=pair, bid=Decimal(bid) / 1000, ask=(Decimal(bid) + spread) / 1000, provider=provider,
        ts=T0 + timedelta(seconds=offset)),
    st.sampled_from(PAIRS), st.integers(500, 9000), st.integers(0, 50), st.sampled_from(("FXP1", "FXP2")),
    st.integers(-90, 90))


@settings(max_examples=150, deadline=None)
@given(book=st.lists(quotes, max_size=8), offsets=st.lists(st.integers(-120, 160), min_size=1, max_size=12),
       pairs=st.lists(st.tuples(st.sampled_from(CCYS), st.sampled_from(CCYS)), min_size=1, max_size=12))
def test_memoised_routes_equal_a_fresh_computation(book: list[Quote], offsets: list[int],
                                                   pairs: list[tuple[str, str]]) -> None:
    same = tuple(book)
    for offset in sorted(offsets):  # time moves forward over one book, as in a running corridor
        now = T0 + timedelta(seconds=offset)
        for sell, buy in pairs:
            args = (Decimal("1000.00"), sell, buy)
            kwargs = {"max_age": AGE, "max_skew": SKEW}
            memoised = convert(*args, same, now, Decimal(5), **kwargs)  # type: ignore[arg-type]
            plain = convert(*args, list(book), now, Decimal(5), **kwargs)  # type: ignore[arg-type]
            assert memoised == plain


def test_a_quote_priced_on_its_last_fresh_instant_is_stale_an_instant_later() -> None:
    book = (Quote(pair="USD/CNY", bid=Decimal("7.10"), ask=Decimal("7.12"), ts=T0, provider="FXP1"),)
    edge = T0 + AGE  # exactly max_age old: still fresh
    assert isinstance(convert(Decimal("100.00"), "USD", "CNY", book, edge, Decimal(0), max_age=AGE), Ok)
    later = convert(Decimal("100.00"), "USD", "CNY", book, edge + timedelta(seconds=1), Decimal(0), max_age=AGE)
    assert getattr(later, "code", None) == "AB03"


def test_a_new_book_is_not_answered_from_the_old_one() -> None:
    now = T0 + timedelta(seconds=10)
    old = (Quote(pair="USD/CNY", bid=Decimal("7.10"), ask=Decimal("7.12"), ts=T0, provider="FXP1"),)
    new = (Quote(pair="USD/CNY", bid=Decimal("7.20"), ask=Decimal("7.22"), ts=T0, provider="FXP1"),)
    first = convert(Decimal("100.00"), "USD", "CNY", old, now, Decimal(0), max_age=AGE)
    second = convert(Decimal("100.00"), "USD", "CNY", new, now, Decimal(0), max_age=AGE)
    assert str(first.value.amount_out) == "710.00" and str(second.value.amount_out) == "720.00"  # type: ignore[union-attr]
