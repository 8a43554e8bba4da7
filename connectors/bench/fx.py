"""FX conversion: conversions/s (direct and crossed) and lock lookups/s, on an ECB-replay quote book."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from router.fx.convert import convert
from router.fx.lock import MemoryLockStore
from router.fx.pricing import price_with_store
from router.fx.quote import Quote
from router.fx.settings import FxSettings
from router.outcome import Ok


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=20000, help="operations per measurement")
    p.add_argument("--providers", type=int, default=3, help="competing providers per pair")


def _book(providers: int, now: datetime) -> list[Quote]:
    from connectors.fx_feed import day_quotes, latest_ecb_day

    day, rates = latest_ecb_day()
    book: list[Quote] = []
    for i in range(providers):
        # Each provider quotes a slightly different spread so the best-rate choice has work to do.
        book.extend(day_quotes(day, rates, spread_bps=Decimal(8 + 2 * i), ts=now, provider=f"FXP{i + 1}"))
    return book


def _rate(n: int, fn: Any) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)
    book = _book(args.providers, now)
    fx = FxSettings(spread_bps=Decimal(25))
    age = fx.max_quote_age
    amount = Decimal("12345.67")

    def direct(_: int) -> None:
        r = convert(amount, "CNY", "USD", book, now, fx.spread_bps, max_age=age)
        assert isinstance(r, Ok)

    def crossed(_: int) -> None:
        r = convert(amount, "CNY", "THB", book, now, fx.spread_bps, max_age=age)
        assert isinstance(r, Ok) and len(r.value.route) == 3

    store = MemoryLockStore()
    uetrs = [f"uetr-{i}" for i in range(args.n)]

    def new_lock(i: int) -> None:
        r = price_with_store(store, uetrs[i], amount, "CNY", "USD", book, now, fx)
        assert isinstance(r, Ok) and not r.value.reused

    def lookup(i: int) -> None:
        r = price_with_store(store, uetrs[i], amount, "CNY", "USD", book, now + timedelta(seconds=1), fx)
        assert isinstance(r, Ok) and r.value.reused

    n = args.n
    return {
        "quotes_in_book": len(book),
        "providers_per_pair": args.providers,
        "direct_conversions_per_s": round(_rate(n, direct)),
        "cross_conversions_per_s": round(_rate(n, crossed)),
        "price_and_lock_per_s": round(_rate(n, new_lock)),
        "lock_lookups_per_s": round(_rate(n, lookup)),
    }
