"""FX stage: current quotes from ``fx.rates``; pricing requests from ``fx.requests`` -> ``fx.priced``.

Tables (faust, changelogged in Kafka):

- ``fx-quotes`` (GlobalTable, so every worker sees every quote): key ``PAIR|PROVIDER``, value the
  quote's JSON text; a quote older than the one held for the same key is ignored.
- ``fx-locks`` (key UETR, co-partitioned with ``fx.requests``): the payment's ``LockedQuote`` JSON.
  A redelivered or retried request finds its lock and gets the same quote id, rate and amounts.
- ``fx-waiting`` (key UETR): payments waiting for a fresh quote, with the time the wait began.
  A timer re-sends them to ``fx.requests`` every ``retry_interval_s`` until priced or rejected;
  the table makes the wait survive a restart.

The pricing itself is ``router.fx.pricing.price_payment``; this module only decodes, looks up,
calls and sends. ``FxTables.price`` is what a payment stage calls from inside its own agent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from router.dlq import dlq_headers
from router.fx.lock import LockedQuote
from router.fx.pricing import (
    Priced,
    Wait,
    decode_request,
    price_payment,
    reject_dict,
    wait_dict,
)
from router.fx.quote import Quote, QuoteFormatError, parse_quote, quotes_from_table
from router.fx.settings import FxSettings
from router.outcome import FORMAT_ERROR, Ok, Reject
from router.topics import BY_NAME

if TYPE_CHECKING:
    from router.app import Wiring

log = logging.getLogger(__name__)

H_RETRY = "fx.retry"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FxTables:
    """The stage's tables plus the pricing call a payment agent makes (inside an event)."""

    quotes: Any  # faust GlobalTable[str, str]
    locks: Any  # faust Table[str, str]
    waiting: Any  # faust Table[str, str]
    settings: FxSettings
    clock: Callable[[], datetime] = _utcnow

    def current_quotes(self) -> list[Quote]:
        return quotes_from_table(list(self.quotes.values()))

    def lock_for(self, uetr: str) -> LockedQuote | None:
        raw = self.locks.get(uetr)
        return LockedQuote.model_validate_json(raw) if raw else None

    def price(self, uetr: str, amount: Decimal, ccy_from: str, ccy_to: str) -> Ok[Priced] | Reject | Wait:
        """Price a payment, storing a new lock and tracking a wait in the tables.

        Must run inside a faust agent whose source topic is keyed by UETR and has as many
        partitions as ``fx.requests`` (the tables' changelogs are partitioned like the source)."""
        now = self.clock()
        w = self.waiting.get(uetr)
        since = datetime.fromisoformat(json.loads(w)["since"]) if w else None
        result = price_payment(uetr, amount, ccy_from, ccy_to, self.current_quotes(), self.lock_for(uetr), now,
                               self.settings, waiting_since=since)
        if isinstance(result, Ok) and not result.value.reused:
            self.locks[uetr] = result.value.lock.model_dump_json()
        if isinstance(result, Wait):
            if since is None:
                # The request travels with the wait so the retry timer can re-send it after a restart.
                self.waiting[uetr] = json.dumps({
                    "since": result.waiting_since.isoformat(), "uetr": uetr, "amount": str(amount),
                    "currency_in": ccy_from, "currency_out": ccy_to})
        elif w is not None:
            del self.waiting[uetr]
        return result


_ATTR = "router_fx_tables"


def tables_of(app: Any) -> FxTables:
    """The FX tables of an app built with the "fx" stage (raises LookupError otherwise)."""
    t = getattr(app, _ATTR, None)
    if not isinstance(t, FxTables):
        raise LookupError("the fx stage is not registered on this app")
    return t


def store_quote(table: Any, quote: Quote) -> bool:
    """Keep ``quote`` if it is not older than the one held for its (pair, provider)."""
    held = table.get(quote.key)
    if held:
        try:
            if parse_quote(held).ts > quote.ts:
                return False
        except QuoteFormatError:
            pass
    table[quote.key] = quote.to_json()
    return True


def register(w: Wiring) -> None:
    app, s = w.app, w.settings
    rates, requests, priced, dlq = w.topic("fx.rates"), w.topic("fx.requests"), w.topic("fx.priced"), \
        w.topic("router.dlq")
    quotes_t = app.GlobalTable("fx-quotes", key_type=str, value_type=str, partitions=BY_NAME["fx.rates"].partitions,
                               recovery_buffer_size=1)
    parts = BY_NAME["fx.requests"].partitions
    locks_t = app.Table("fx-locks", key_type=str, value_type=str, partitions=parts)
    waiting_t = app.Table("fx-waiting", key_type=str, value_type=str, partitions=parts)
    tables = FxTables(quotes_t, locks_t, waiting_t, s.fx)
    setattr(app, _ATTR, tables)  # for a payment stage registered on the same app: tables_of(app)

    async def to_dlq(msg: Any, reject: Reject) -> None:
        await dlq.send(key=msg.key, value=msg.value if isinstance(msg.value, bytes) else b"",
                       headers=dlq_headers(reject, topic=msg.topic, partition=msg.partition, offset=msg.offset,
                                           original=_header_items(msg.headers)))

    @app.agent(rates, name="fx-quotes")
    async def quotes_agent(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            try:
                quote = parse_quote(msg.value or b"")
            except QuoteFormatError as exc:
                await to_dlq(msg, Reject(FORMAT_ERROR, f"bad quote: {exc}", "fx"))
                continue
            store_quote(quotes_t, quote)

    @app.agent(requests, name="fx-pricer")
    async def pricer_agent(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            raw: bytes = msg.value if isinstance(msg.value, bytes) else b""
            decoded = decode_request(raw)
            if isinstance(decoded, Reject):
                await to_dlq(msg, decoded)
                uetr = (msg.key or b"").decode("utf-8", "replace")
                if uetr:
                    await priced.send(key=msg.key, value=_dumps(reject_dict(uetr, decoded)))
                continue
            req, amount = decoded.value
            if msg.key != req.uetr.encode():
                # The lock lives in the partition of the record key: a key other than the UETR
                # could let a redelivery land in another partition and be priced again.
                bad = Reject(FORMAT_ERROR, f"record key {msg.key!r} is not the request's UETR", "fx")
                await to_dlq(msg, bad)
                await priced.send(key=req.uetr.encode(), value=_dumps(reject_dict(req.uetr, bad)))
                continue
            try:
                result = tables.price(req.uetr, amount, req.currency_in, req.currency_out)
            except Exception as exc:  # a bug must not stop the worker: keep the input, say why
                log.exception("fx pricing failed for %s", req.uetr)
                await to_dlq(msg, Reject(FORMAT_ERROR, f"internal error: {type(exc).__name__}: {exc}", "fx"))
                continue
            key = req.uetr.encode()
            if isinstance(result, Ok):
                await priced.send(key=key, value=_dumps(result.value.to_dict()))
            elif isinstance(result, Reject):
                await priced.send(key=key, value=_dumps(reject_dict(req.uetr, result)))
            elif not _is_retry(msg.headers):
                await priced.send(key=key, value=_dumps(wait_dict(req.uetr, result)))

    last_sent: dict[str, datetime] = {}

    @app.timer(interval=s.fx.retry_interval_s, name="fx-retry")
    async def retry_waiting() -> None:
        # Re-sends the original request; the pricer decides whether it is priced, still waits or times out.
        now = _utcnow()
        for uetr, wait in list(waiting_t.items()):
            prev = last_sent.get(uetr)
            if prev is not None and (now - prev).total_seconds() < s.fx.retry_interval_s:
                continue
            last_sent[uetr] = now
            await requests.send(key=uetr.encode(), value=_request_from_wait(uetr, wait), headers=[(H_RETRY, b"1")])
        for uetr in [u for u in last_sent if u not in waiting_t]:
            del last_sent[uetr]

    _ = (quotes_agent, pricer_agent, retry_waiting)


def _request_from_wait(uetr: str, wait: str) -> bytes:
    d = json.loads(wait)
    return _dumps({"uetr": uetr, "amount": d["amount"], "currency_in": d["currency_in"],
                   "currency_out": d["currency_out"]})


def _is_retry(headers: Any) -> bool:
    return any(k == H_RETRY for k, _ in _header_items(headers))


def _dumps(d: dict[str, Any]) -> bytes:
    return json.dumps(d, separators=(",", ":")).encode()


def _header_items(headers: Any) -> list[tuple[str, bytes]]:
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(k), bytes(v or b"")) for k, v in items]
