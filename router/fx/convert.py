"""Currency conversion with the best quote for the payer, direct or crossed.

Which side of a quote applies. A ``BASE/COUNTER`` quote prices one BASE in COUNTER. A payer who
pays COUNTER to receive BASE buys BASE at the ``ask``: paying CNY to get USD under a USD/CNY
quote gives ``1 / ask`` USD per CNY. A payer who pays BASE to receive COUNTER sells BASE at the
``bid``: paying USD to get CNY gives ``bid`` CNY per USD. "Best for the payer" (FX providers
compete, as in Nexus) is the largest amount received per unit paid, over every fresh quote of
the pair in either orientation, from any provider.

Crossing. With no fresh direct quote, the amount is routed through the first currency of
``cross`` (USD, then EUR by default) for which both legs have fresh quotes; each leg takes the
best quote for that leg. The legs' rates multiply.

Spread. The corridor's spread ``s`` (basis points) is the router's margin, taken once, off the
payer's market rate: ``applied = market * (1 - s / 10000)`` in "units received per unit paid".

Rounding rule. Rates are kept exact (rational numbers built from the quotes' decimal strings;
no precision is lost anywhere) until the one final rounding of the amount received:
ROUND_HALF_EVEN to the minor units of the received currency from ISO 4217 (``iso4217``
package). The result therefore never differs from exact arithmetic by more than half a minor
unit. Reported rates are Decimals rounded half-even to ``RATE_DIGITS`` significant digits;
``base_one_rate`` gives the ISO 20022 ``BaseOneRate`` form (at most 11 digits, 10 decimals) for
``XchgRate`` on pacs.008 / pacs.009.

Staleness. A quote whose ``ts`` is more than ``max_age`` before ``now`` is stale; one stamped
more than ``max_skew`` after ``now`` is not valid yet. ``now`` is always passed in (injectable
clock). A stale or missing rate rejects with ``FX_RATE_UNAVAILABLE``; pricing of a payment
(router/fx/pricing.py) turns that into waiting for a fresh quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from router.fx.currency import STAGE, check_amount, check_currency, round_amount
from router.fx.quote import Quote
from router.outcome import FX_RATE_UNAVAILABLE, INVALID_CURRENCY, Ok, Reject

RATE_DIGITS = 28
_RATE_CTX = Context(prec=RATE_DIGITS, rounding=ROUND_HALF_EVEN)
_BPS = Fraction(1, 10000)


def to_decimal(value: Fraction, digits: int = RATE_DIGITS) -> Decimal:
    """An exact rate as a Decimal rounded half-even to ``digits`` significant digits."""
    ctx = _RATE_CTX if digits == RATE_DIGITS else Context(prec=digits, rounding=ROUND_HALF_EVEN)
    return plain(ctx.divide(Decimal(value.numerator), Decimal(value.denominator)).normalize(ctx))


def plain(d: Decimal) -> Decimal:
    """``d`` without trailing zeros and without exponent notation (``1E+2`` becomes ``100``)."""
    n = d.normalize()
    return n.quantize(Decimal(1)) if n.as_tuple().exponent > 0 else n  # type: ignore[operator]


def base_one_rate(rate: Decimal) -> Decimal:
    """ISO 20022 BaseOneRate (totalDigits 11, fractionDigits 10), rounded half-even."""
    d = Context(prec=11, rounding=ROUND_HALF_EVEN).plus(rate)
    if d.as_tuple().exponent < -10:  # type: ignore[operator]
        d = d.quantize(Decimal("1e-10"), rounding=ROUND_HALF_EVEN)
    return plain(d)


def leg_rate(q: Quote, sell_ccy: str, buy_ccy: str) -> Fraction | None:
    """Units of ``buy_ccy`` the payer gets per unit of ``sell_ccy`` under quote ``q`` (exact)."""
    if q.base == buy_ccy and q.counter == sell_ccy:
        return 1 / Fraction(q.ask)
    if q.base == sell_ccy and q.counter == buy_ccy:
        return Fraction(q.bid)
    return None


def best_quote(quotes: Iterable[Quote], sell_ccy: str, buy_ccy: str) -> Quote | None:
    """The quote giving the payer the most ``buy_ccy`` per ``sell_ccy``, across providers.

    Ties go to the newer quote, then to the provider name, so the choice is deterministic.
    """
    best: Quote | None = None
    best_key: tuple[Fraction, datetime, str] | None = None
    buying_base, selling_base = f"{buy_ccy}/{sell_ccy}", f"{sell_ccy}/{buy_ccy}"
    for q in quotes:
        # Same rule as leg_rate, inlined on the pair string: this loop runs over the whole book.
        if q.pair == buying_base:
            r = 1 / Fraction(q.ask)
        elif q.pair == selling_base:
            r = Fraction(q.bid)
        else:
            continue
        key = (r, q.ts, q.provider)
        if best_key is None or key > best_key:
            best, best_key = q, key
    return best


def is_fresh(q: Quote, now: datetime, max_age: timedelta, max_skew: timedelta = timedelta(0)) -> bool:
    age = now - q.ts
    return -max_skew <= age <= max_age


@dataclass(frozen=True, slots=True)
class Route:
    """A way from one currency to another: the currencies passed and the quote used per leg."""

    currencies: tuple[str, ...]
    legs: tuple[Quote, ...]

    @property
    def market_rate(self) -> Fraction:
        r = Fraction(1)
        for (sell, buy), q in zip(zip(self.currencies, self.currencies[1:], strict=False), self.legs,
                                  strict=True):
            lr = leg_rate(q, sell, buy)
            assert lr is not None  # a Route is only built from matching quotes
            r *= lr
        return r

    @property
    def provider(self) -> str:
        names: list[str] = []
        for q in self.legs:
            if q.provider not in names:
                names.append(q.provider)
        return "+".join(names)


def find_route(quotes: Sequence[Quote], sell_ccy: str, buy_ccy: str, cross: Sequence[str]) -> Route | None:
    """Direct if any quote covers the pair, else through the first cross currency with both legs."""
    direct = best_quote(quotes, sell_ccy, buy_ccy)
    if direct is not None:
        return Route((sell_ccy, buy_ccy), (direct,))
    for via in cross:
        if via in (sell_ccy, buy_ccy):
            continue
        first = best_quote(quotes, sell_ccy, via)
        if first is None:
            continue
        second = best_quote(quotes, via, buy_ccy)
        if second is not None:
            return Route((sell_ccy, via, buy_ccy), (first, second))
    return None


@dataclass(frozen=True, slots=True)
class Conversion:
    amount_in: Decimal
    currency_in: str
    amount_out: Decimal
    currency_out: str
    exact_rate: Fraction  # units of currency_out per currency_in, spread applied, exact
    market_rate: Fraction  # same, before the spread
    spread_bps: Decimal
    route: tuple[str, ...]
    legs: tuple[Quote, ...]
    provider: str
    priced_at: datetime

    @property
    def rate(self) -> Decimal:
        """Applied rate: units of currency_out per 1 currency_in."""
        return to_decimal(self.exact_rate)

    @property
    def quoted_pair(self) -> str:
        """The pair whose convention ``quoted_rate`` follows: the quote's own pair on a direct
        route, ``IN/OUT`` (OUT per IN) on a crossed one."""
        if len(self.legs) == 1:
            return self.legs[0].pair
        return f"{self.currency_in}/{self.currency_out}"

    @property
    def quoted_rate(self) -> Decimal:
        """Applied rate in the quoted convention (counter per base of ``quoted_pair``)."""
        base = self.quoted_pair[:3]
        return to_decimal(self.exact_rate if base == self.currency_in else 1 / self.exact_rate)


def convert(
    amount: Decimal,
    from_ccy: str,
    to_ccy: str,
    quotes: Iterable[Quote],
    now: datetime,
    spread_bps: Decimal,
    *,
    max_age: timedelta,
    cross: Sequence[str] = ("USD", "EUR"),
    max_skew: timedelta = timedelta(seconds=5),
) -> Ok[Conversion] | Reject:
    """Convert ``amount`` of ``from_ccy`` into ``to_ccy`` at the best fresh rate (see module doc)."""
    for ccy in (from_ccy, to_ccy):
        bad = check_currency(ccy)
        if isinstance(bad, Reject):
            return bad
    if from_ccy == to_ccy:
        return Reject(INVALID_CURRENCY, f"{from_ccy} to {to_ccy} needs no conversion", STAGE)
    checked = check_amount(amount, from_ccy)
    if isinstance(checked, Reject):
        return checked
    if not Decimal(0) <= spread_bps < Decimal(10000):
        raise ValueError(f"spread {spread_bps} bps out of range")
    found = _ROUTES.route(quotes, now, max_age, max_skew, from_ccy, to_ccy, tuple(cross))
    if found is None:
        every = list(quotes)
        return Reject(FX_RATE_UNAVAILABLE, _why_unavailable(every, from_ccy, to_ccy, cross, now, max_age), STAGE)
    route, market = found
    applied = market * (1 - Fraction(spread_bps) * _BPS)
    out = round_amount(Fraction(checked.value) * applied, to_ccy)
    return Ok(Conversion(
        amount_in=checked.value, currency_in=from_ccy, amount_out=out, currency_out=to_ccy,
        exact_rate=applied, market_rate=market, spread_bps=spread_bps, route=route.currencies,
        legs=route.legs, provider=route.provider, priced_at=now,
    ))


class _RouteMemo:
    """The best route per currency pair, kept while the book and its fresh subset stay the same.

    Every payment of a pair would otherwise filter the whole book for freshness and compare every
    quote again (exact ``Fraction`` rates) to find the same route. The memo holds the book, a
    tuple (a new tuple misses; a list could change in place, so lists are not memoised; an id is
    never reused while the memo holds the object), and the instants between which the fresh
    subset cannot change: the nearest moments, before and after ``now``, at which some quote
    becomes valid (``ts - max_skew``) or goes stale (``ts + max_age``). Outside that open
    interval, or on its edges, everything is computed again, so the answer is the one the plain
    computation gives."""

    __slots__ = ("age", "book", "hi", "lo", "routes", "skew")

    def __init__(self) -> None:
        self.book: object = None
        self.age = self.skew = timedelta(0)
        self.lo = self.hi = datetime.min.replace(tzinfo=UTC)
        self.routes: dict[tuple[str, str, tuple[str, ...]], tuple[Route, Fraction] | None] = {}

    def route(self, quotes: Iterable[Quote], now: datetime, max_age: timedelta, max_skew: timedelta,
              sell: str, buy: str, cross: tuple[str, ...]) -> tuple[Route, Fraction] | None:
        if not (quotes is self.book and self.age == max_age and self.skew == max_skew and self.lo < now < self.hi):
            if not isinstance(quotes, tuple):
                return _best(quotes, now, max_age, max_skew, sell, buy, cross)
            self._reset(quotes, now, max_age, max_skew)
        key = (sell, buy, cross)
        try:
            return self.routes[key]
        except KeyError:
            pass
        found = self.routes[key] = _best(quotes, now, max_age, max_skew, sell, buy, cross)
        return found

    def _reset(self, book: Sequence[Quote], now: datetime, max_age: timedelta, max_skew: timedelta) -> None:
        before: list[datetime] = []
        after: list[datetime] = []
        for q in book:
            for edge in (q.ts - max_skew, q.ts + max_age):
                # An edge at ``now`` bounds both sides: freshness is closed at both ends, so a
                # quote exactly max_age old is fresh now and stale an instant later.
                if edge <= now:
                    before.append(edge)
                if edge >= now:
                    after.append(edge)
        self.book, self.age, self.skew, self.routes = book, max_age, max_skew, {}
        self.lo = max(before, default=datetime.min.replace(tzinfo=now.tzinfo))
        self.hi = min(after, default=datetime.max.replace(tzinfo=now.tzinfo))


def _best(quotes: Iterable[Quote], now: datetime, max_age: timedelta, max_skew: timedelta, sell: str, buy: str,
          cross: tuple[str, ...]) -> tuple[Route, Fraction] | None:
    """The best route over the fresh quotes, and its market rate (no memo)."""
    route = find_route([q for q in quotes if is_fresh(q, now, max_age, max_skew)], sell, buy, cross)
    return None if route is None else (route, route.market_rate)


_ROUTES = _RouteMemo()


def _why_unavailable(quotes: list[Quote], from_ccy: str, to_ccy: str, cross: Sequence[str],
                     now: datetime, max_age: timedelta) -> str:
    # Past quotes that would have formed a route: the rate exists but is stale.
    past = [q for q in quotes if q.ts <= now]
    route = find_route(past, from_ccy, to_ccy, cross)
    if route is not None:
        oldest = min(route.legs, key=lambda q: q.ts)
        age = int((now - oldest.ts).total_seconds())
        return (f"stale rate {from_ccy}->{to_ccy}: {oldest.pair} from {oldest.provider} is {age} s old "
                f"(max {int(max_age.total_seconds())} s)")
    if find_route(quotes, from_ccy, to_ccy, cross) is not None:
        return f"no rate {from_ccy}->{to_ccy} valid at {now.isoformat()}: quotes are dated later"
    via = ", ".join(c for c in cross if c not in (from_ccy, to_ccy))
    return f"no rate for {from_ccy}->{to_ccy} (direct or via {via})" if via else \
        f"no rate for {from_ccy}->{to_ccy}"
