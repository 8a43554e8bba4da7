"""``router fx convert|quotes|feed``: price an amount from a quotes file, inspect or feed ``fx.rates``."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from router.cli import CliError
from router.config import get_settings
from router.fx.convert import best_quote, convert, is_fresh
from router.fx.currency import check_currency, parse_amount
from router.fx.lock import lock_quote
from router.fx.pricing import Priced
from router.fx.quote import Quote, QuoteFormatError, latest_per_provider, parse_quote, parse_quote_list
from router.outcome import FX_RATE_UNAVAILABLE, Reject

EXIT_BAD_INPUT = 2
EXIT_NO_RATE = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fx", help="FX conversion with locked quotes")
    fsub = p.add_subparsers(dest="action", metavar="ACTION")
    fsub.required = True

    c = fsub.add_parser("convert", help="convert AMOUNT FROM TO at the best fresh quote in a rates file")
    c.add_argument("amount", metavar="AMOUNT")
    c.add_argument("from_ccy", metavar="FROM")
    c.add_argument("to_ccy", metavar="TO")
    c.add_argument("--rates", required=True, type=Path, metavar="FILE", help="JSON list of quotes")
    c.add_argument("--at", default=None, metavar="TIME", help="pricing instant, ISO 8601 (default: now)")
    c.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    c.add_argument("--uetr", default="", help="payment UETR the quote id is derived from")
    c.add_argument("--spread-bps", type=decimal_arg, default=None, help="override the corridor spread")
    c.add_argument("--max-age", type=float, default=None, metavar="SECONDS", help="override max quote age")
    c.set_defaults(func=_convert)

    q = fsub.add_parser("quotes", help="best current quote per pair, from a rates file or the fx.rates topic")
    q.add_argument("--rates", type=Path, default=None, metavar="FILE", help="JSON list (default: read fx.rates)")
    q.add_argument("--at", default=None, metavar="TIME", help="instant for freshness (default: now)")
    q.set_defaults(func=_quotes)

    # `router fx feed` (the ECB replay connector) is added by a plugin (router.cli.PLUGINS).
    from router.cli import plugins

    for plugin in plugins():
        if hasattr(plugin, "register_fx"):
            plugin.register_fx(fsub)


def decimal_arg(text: str) -> Decimal:
    """argparse type: a finite decimal (Decimal's own error is not one argparse reports nicely)."""
    try:
        d = Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not d.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return d


def _fail(reject: Reject) -> CliError:
    code = EXIT_NO_RATE if reject.code == FX_RATE_UNAVAILABLE else EXIT_BAD_INPUT
    return CliError(f"{reject.code} {reject.text}", code)


def _error(msg: str, code: int = EXIT_BAD_INPUT) -> CliError:
    return CliError(msg, code)


def parse_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _error(f"--at {text!r} is not an ISO 8601 time (e.g. 2026-11-29T10:00:00Z)") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _load(path: Path) -> list[Quote]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _error(f"cannot read rates file {path}: {exc.strerror or exc}") from None
    try:
        return parse_quote_list(raw)
    except QuoteFormatError as exc:
        raise _error(f"rates file {path}: {exc}") from None


def _convert(args: argparse.Namespace) -> int:
    fx = get_settings().fx
    from_ccy, to_ccy = args.from_ccy.strip().upper(), args.to_ccy.strip().upper()
    for ccy in (from_ccy, to_ccy):
        bad = check_currency(ccy)
        if isinstance(bad, Reject):
            raise _fail(bad)
    amount = parse_amount(args.amount, from_ccy)
    if isinstance(amount, Reject):
        raise _fail(amount)
    now = parse_time(args.at)
    quotes = _load(args.rates)
    spread = args.spread_bps if args.spread_bps is not None else fx.spread_for(from_ccy, to_ccy)
    if args.max_age is not None:
        if args.max_age <= 0:
            raise _error("--max-age must be positive")
        fx = fx.model_copy(update={"max_quote_age_s": args.max_age})
    if not Decimal(0) <= spread < Decimal(10000):
        raise _error(f"--spread-bps {spread} must be in [0, 10000)")
    result = convert(amount.value, from_ccy, to_ccy, quotes, now, spread, max_age=fx.max_quote_age,
                     cross=fx.cross_currencies, max_skew=fx.max_clock_skew)
    if isinstance(result, Reject):
        raise _fail(result)
    priced = Priced(lock_quote(args.uetr, result.value, now, fx.lock_ttl_s), reused=False)
    d = priced.to_dict()
    if args.json:
        keys = ("amount_in", "currency_in", "amount_out", "currency_out", "rate", "route", "provider",
                "quote_id", "expires_at")
        print(json.dumps({k: d[k] for k in keys}))
    else:
        print(f"{d['amount_in']} {d['currency_in']} -> {d['amount_out']} {d['currency_out']}"
              f" at {d['rate']} {d['currency_out']} per {d['currency_in']}"
              f" ({d['quoted_pair']} {d['quoted_rate']}); route {'->'.join(d['route'])};"
              f" provider {d['provider']}; quote {d['quote_id']} expires {d['expires_at']}")
    return 0


def _quotes(args: argparse.Namespace) -> int:
    s = get_settings()
    now = parse_time(args.at)
    quotes = _load(args.rates) if args.rates else asyncio.run(_read_topic())
    current = list(latest_per_provider(quotes).values())
    pairs = sorted({q.pair for q in current})
    if not pairs:
        print("no quotes")
        return 0
    for pair in pairs:
        base, counter = pair.split("/")
        fresh = [q for q in current if is_fresh(q, now, s.fx.max_quote_age, s.fx.max_clock_skew)]
        buy = best_quote([q for q in fresh if q.pair == pair], counter, base)
        sell = best_quote([q for q in fresh if q.pair == pair], base, counter)
        n = sum(1 for q in current if q.pair == pair)
        if buy is None or sell is None:
            newest = max((q for q in current if q.pair == pair), key=lambda q: q.ts)
            print(f"{pair:<8} STALE  newest {newest.ts.isoformat()} from {newest.provider} ({n} provider(s))")
            continue
        flag = " derived" if buy.derived or sell.derived else ""
        print(f"{pair:<8} bid {sell.bid} ({sell.provider})  ask {buy.ask} ({buy.provider})  "
              f"{n} provider(s){flag}")
    return 0


async def _read_topic() -> list[Quote]:
    from aiokafka import AIOKafkaConsumer

    from router.kafka_clients import client_options
    from router.topics import topic_name

    k = get_settings().kafka
    name = topic_name("fx.rates", k.topic_prefix)
    consumer = AIOKafkaConsumer(**client_options(k), group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    out: list[Quote] = []
    try:
        # Checked before subscribing: a subscription to a missing topic just waits for it.
        if name not in await consumer.topics():
            raise _error(f"topic {name} does not exist (run `router topics create`)", 1)
        consumer.subscribe([name])
        for _ in range(50):  # without a group the consumer assigns itself every partition once it has metadata
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        end = await consumer.end_offsets(list(consumer.assignment()))
        while not await _at_end(consumer, end):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    try:
                        out.append(parse_quote(r.value or b""))
                    except QuoteFormatError:
                        continue
    finally:
        await consumer.stop()
    return out


async def _at_end(consumer: Any, end: dict[Any, int]) -> bool:
    for tp, last in end.items():
        if await consumer.position(tp) < last:
            return False
    return True
