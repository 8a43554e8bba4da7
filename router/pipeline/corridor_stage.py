"""Corridor stage: the per-payment orchestrator, wired to Kafka.

One agent reads every event about a payment, all keyed by UETR and co-partitioned:
``router.accepted`` (canonical messages from ingest), ``screening.decisions`` (analysts),
``settlement.outcomes`` (PvP decisions) and ``payments.retry`` (timer ticks for payments waiting
for a fresh FX quote). It keeps one ``PaymentState`` per UETR in a faust table, calls the pure
handlers in ``router.corridor.lifecycle`` and sends what they return. FX quotes are read by a
background task into memory on every worker: ``fx.rates`` is one compacted partition, so each
worker simply reads all of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from router.corridor import lifecycle
from router.corridor.effects import Send
from router.corridor.ports import Ports
from router.corridor.state import PaymentState, Phase
from router.dlq import dlq_headers
from router.iso20022.model import (
    CancellationRequest,
    CanonicalMessage,
    Payment,
    Resolution,
    Return,
    Side,
    StatusReport,
)
from router.outcome import FORMAT_ERROR, NARRATIVE, Reject
from router.pipeline.ingest_stage import H_SOURCE
from router.settlement.model import OUTCOME
from router.topics import topic_name

if TYPE_CHECKING:
    from router.app import Wiring

log = logging.getLogger(__name__)
CANONICAL: TypeAdapter[CanonicalMessage] = TypeAdapter(CanonicalMessage)
SOURCES = ("router.accepted", "screening.decisions", "settlement.outcomes", "payments.retry")


def _headers(msg: Any) -> dict[str, str]:
    items = msg.headers.items() if isinstance(msg.headers, dict) else (msg.headers or [])
    return {str(k): bytes(v or b"").decode("utf-8", "replace") for k, v in items}


def handle(topic: str, value: bytes, headers: dict[str, str], state: PaymentState | None, ports: Ports,
           now: datetime) -> lifecycle.Step:
    """Decode one event and apply it. Pure apart from ``ports``; undecodable input is a reject."""
    try:
        if topic == "router.accepted":
            message = CANONICAL.validate_json(value)
            side: Side = "cips" if headers.get(H_SOURCE) == "cips" else "corr"
            if isinstance(message, Payment):
                return lifecycle.on_payment(state, message, side, ports, now)
            if isinstance(message, StatusReport):
                return lifecycle.on_receiver_status(state, message, side, ports, now)
            if isinstance(message, Return):
                return lifecycle.on_return(state, message, side, ports, now)
            if isinstance(message, CancellationRequest):
                return lifecycle.on_cancellation(state, message, side, ports, now)
            if isinstance(message, Resolution):
                return lifecycle.on_resolution(state, message, side, ports, now)
            return lifecycle.Step(state, reject=Reject(NARRATIVE, f"{message.kind} is not routed by the corridor",
                                                       "corridor"))
        if topic == "screening.decisions":
            return lifecycle.on_screening_decision(state, json.loads(value), ports, now)
        if topic == "settlement.outcomes":
            return lifecycle.on_settlement(state, OUTCOME.validate_json(value), ports, now)
        if topic == "payments.retry":
            return lifecycle.on_retry(state, ports, now)
    except (ValidationError, ValueError) as exc:
        return lifecycle.Step(state, reject=Reject(FORMAT_ERROR, f"undecodable {topic} record: {exc}"[:500],
                                                   "corridor"))
    return lifecycle.Step(state, reject=Reject(NARRATIVE, f"unexpected topic {topic}", "corridor"))


def register(w: Wiring) -> None:
    from router.pipeline.corridor_ports import RouterPorts

    app, s = w.app, w.settings
    prefix = s.kafka.topic_prefix
    ports = RouterPorts.create(s)
    physical = {topic_name(t, prefix): t for t in SOURCES}
    source = app.topic(*physical, key_serializer="raw", value_serializer="raw")
    table = app.Table("corridor-payments", default=None, key_type=str, value_type=str, partitions=4)
    out_topics: dict[str, Any] = {}
    waiting: dict[str, datetime] = {}  # UETR -> retry_at, this worker's partitions only
    scanned = {"done": False}

    def out(name: str) -> Any:
        if name not in out_topics:
            out_topics[name] = w.topic(name)
        return out_topics[name]

    async def emit(sends: tuple[Send, ...]) -> None:
        """Send a step's outputs and wait until the broker has them all.

        Outputs go out before the payment's new state is written to the table, and that order is
        what keeps them from being lost: faust (at-least-once) writes the table's changelog and
        the outputs through one producer without a transaction, so a worker killed in between
        could otherwise leave the new state on the broker without the messages it implies. A
        replay then finds the state already advanced and would send nothing. Written in this
        order, a replay either finds the old state and sends the same messages again (their
        ids are derived, so receivers drop the duplicates) or finds the new state, whose
        messages are already on the broker.
        """
        futures = [await out(x.topic).send(key=x.key.encode(), value=x.value, headers=list(x.headers))
                   for x in sends]
        if futures:
            await asyncio.gather(*futures)

    @app.agent(source, name="corridor")
    async def corridor(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            logical = physical.get(msg.topic, msg.topic)
            key = (msg.key or b"").decode("utf-8", "replace")
            raw = table.get(key) if key else None
            state = PaymentState.model_validate_json(raw) if raw else None
            try:
                step = handle(logical, msg.value or b"", _headers(msg), state, ports, datetime.now(UTC))
            except Exception as exc:  # a bug must not stop the worker: keep the input, say why
                log.exception("corridor failed on %s[%s]@%s", msg.topic, msg.partition, msg.offset)
                step = lifecycle.Step(state, reject=Reject(NARRATIVE, f"internal error: {type(exc).__name__}: {exc}",
                                                           "corridor"))
            if step.reject is not None:
                await out("router.dlq").send(key=msg.key, value=msg.value, headers=dlq_headers(
                    step.reject, topic=msg.topic, partition=msg.partition, offset=msg.offset,
                    original=[(k, v.encode()) for k, v in _headers(msg).items()]))
            await emit(step.sends)
            if step.state is not None and step.state is not state:
                table[key] = step.state.model_dump_json()
                if step.state.phase is Phase.WAITING_FX and step.state.retry_at:
                    waiting[key] = step.state.retry_at
                else:
                    waiting.pop(key, None)

    @app.timer(interval=1.0)
    async def retry_waiting() -> None:
        if not scanned["done"]:
            # After a restart the in-memory index is empty: rebuild it once from the table.
            for k, v in list(table.items()):
                if v:
                    st = PaymentState.model_validate_json(v)
                    if st.phase is Phase.WAITING_FX and st.retry_at:
                        waiting[k] = st.retry_at
            scanned["done"] = True
        now = datetime.now(UTC)
        due = [k for k, at in waiting.items() if at <= now]
        for k in due:
            waiting.pop(k, None)
            await out("payments.retry").send(key=k.encode(), value=b"{}")

    @app.task
    async def follow_quotes() -> None:
        await ports.follow_quotes()

    @app.page("/payments/{uetr}")
    @app.table_route(table=table, match_info="uetr")
    async def payment_view(web: Any, request: Any, uetr: str) -> Any:
        """Where is payment UETR? The journey, answered by the worker that owns its partition."""
        raw = table.get(uetr)
        if not raw:
            return web.json({"uetr": uetr, "error": "unknown payment"}, status=404)
        state = PaymentState.model_validate_json(raw)
        return web.json(json.loads(lifecycle.status_send(state).value))

    _ = (corridor, retry_waiting, follow_quotes, payment_view)
