"""Corridor stage: the per-payment orchestrator, wired to Kafka.

It reads every event about a payment, all keyed by UETR and co-partitioned: ``router.accepted``
(canonical messages from ingest), ``screening.results`` (the screening stage's verdicts),
``screening.decisions`` (analysts) and ``settlement.outcomes`` (PvP decisions). It keeps one
``PaymentState`` per UETR, calls the pure handlers in ``router.corridor.lifecycle`` and sends what
they return, in one Kafka transaction with the state change and the consumed offsets. Payments
waiting for a fresh FX quote are retried by the processor's timer. FX quotes are read into memory
on every worker by a background task (``fx.rates`` is one compacted partition).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from router.corridor import lifecycle, receipts
from router.corridor.ports import Ports, Verdict
from router.corridor.state import PaymentState, Phase
from router.dlq import dead_letter
from router.iso20022.model import (
    CancellationRequest,
    Payment,
    Resolution,
    Return,
    Side,
    StatusReport,
    parse_canonical,
)
from router.outcome import FORMAT_ERROR, NARRATIVE, Reject
from router.pipeline.ingest_stage import H_SOURCE
from router.settlement.model import OUTCOME
from router.streams.processor import Out, Record, Store, StoreLogic

log = logging.getLogger(__name__)
SOURCES = ("router.accepted", "screening.results", "screening.decisions", "settlement.outcomes")


def handle(topic: str, value: bytes, headers: dict[str, str], state: PaymentState | None, ports: Ports,
           now: datetime) -> lifecycle.CorridorStep:
    """Decode one event and apply it. Pure apart from ``ports``; undecodable input is a reject."""
    try:
        if topic == "router.accepted":
            message = parse_canonical(value)
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
            return lifecycle.CorridorStep(state, reject=Reject(
                NARRATIVE, f"{message.kind} is not routed by the corridor", "corridor"))
        if topic == "screening.results":
            v = json.loads(value)
            verdict = Verdict(outcome=v["outcome"], reason_code=v.get("reason_code"), text=v.get("reason") or "")
            return lifecycle.on_screening_result(state, verdict, ports, now)
        if topic == "screening.decisions":
            return lifecycle.on_screening_decision(state, json.loads(value), ports, now)
        if topic == "settlement.outcomes":
            return lifecycle.on_settlement(state, OUTCOME.validate_json(value), ports, now)
    except (ValidationError, ValueError) as exc:
        return lifecycle.CorridorStep(state, reject=Reject(FORMAT_ERROR, f"undecodable {topic} record: {exc}"[:500],
                                                   "corridor"))
    return lifecycle.CorridorStep(state, reject=Reject(NARRATIVE, f"unexpected topic {topic}", "corridor"))


def _archived(r: receipts.Receipt, topic: str, value: bytes, headers: dict[str, str], ports: Ports,
              now: datetime) -> lifecycle.CorridorStep:
    """An event for a payment whose state has shrunk to a receipt."""
    message: object = f"{topic} record"
    side: Side | None = None
    if topic == "router.accepted":
        with contextlib.suppress(ValidationError):  # undecodable: refused like any other late event
            message = parse_canonical(value)
        side = "cips" if headers.get(H_SOURCE) == "cips" else "corr"
    sends, reject = receipts.on_event(r, message, side, ports, now)
    return lifecycle.CorridorStep(None, sends, reject)


class CorridorLogic(StoreLogic):
    """The per-payment orchestrator as transactional-processor logic: state per UETR in the
    compacted ``corridor.state`` changelog, outputs and state committed in one transaction."""

    name: str = "corridor"
    inputs: tuple[str, ...] = SOURCES
    changelog: str | None = "corridor.state"

    def __init__(self, ports: Ports, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ports = ports
        self.clock = clock
        self.waiting: dict[int, dict[str, datetime]] = {}  # partition -> UETR -> retry_at
        self.resting: dict[int, dict[str, datetime]] = {}  # partition -> UETR -> at rest since
        self.next_sweep: dict[int, datetime] = {}

    def restored(self, store: Store) -> None:
        waiting = self.waiting.setdefault(store.partition, {})
        resting = self.resting.setdefault(store.partition, {})
        waiting.clear()
        resting.clear()
        for key, raw in store.items():
            if receipts.is_receipt(raw):
                continue
            state = PaymentState.model_validate_json(raw)
            if state.phase is Phase.WAITING_FX and state.retry_at:
                waiting[key] = state.retry_at
            since = receipts.at_rest_since(state)
            if since is not None:
                resting[key] = since

    def process(self, store: Store, topic: str, record: Record) -> list[Out]:
        key = (record.key or b"").decode("utf-8", "replace")
        raw = store.get(key) if key else None
        headers = {str(k): bytes(v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}
        if raw is not None and receipts.is_receipt(raw):
            step = _archived(receipts.Receipt.model_validate_json(raw), topic, record.value or b"", headers,
                             self.ports, self.clock())
            return self._apply(store, key, None, step, record)
        state = PaymentState.model_validate_json(raw) if raw else None
        try:
            step = handle(topic, record.value or b"", headers, state, self.ports, self.clock())
        except Exception as exc:  # a bug must not stop the worker: keep the input, say why
            log.exception("corridor failed on %s[%s]@%s", record.topic, record.partition, record.offset)
            step = lifecycle.CorridorStep(state, reject=Reject(
                NARRATIVE, f"internal error: {type(exc).__name__}: {exc}", "corridor"))
        return self._apply(store, key, state, step, record)

    def tick(self, store: Store) -> list[Out]:
        index = self.waiting.get(store.partition, {})
        now = self.clock()
        outputs: list[Out] = []
        for key in [k for k, at in index.items() if at <= now]:
            raw = store.get(key)
            state = PaymentState.model_validate_json(raw) if raw else None
            outputs += self._apply(store, key, state, lifecycle.on_retry(state, self.ports, now), None)
        self._sweep(store, now)
        return outputs

    def _sweep(self, store: Store, now: datetime) -> None:
        """Shrink payments at rest for longer than the retention to receipts (a bounded batch per sweep)."""
        c = self.ports.settings.corridor
        if now < self.next_sweep.get(store.partition, now):
            return
        self.next_sweep[store.partition] = now + timedelta(seconds=c.sweep_interval_s)
        resting = self.resting.get(store.partition, {})
        retention = timedelta(days=c.retention_days)
        for key in [k for k, since in resting.items() if since + retention <= now][:c.max_archived_per_sweep]:
            del resting[key]
            raw = store.get(key)
            if raw is None or receipts.is_receipt(raw):
                continue
            state = PaymentState.model_validate_json(raw)
            if receipts.due(state, now, retention):
                store.put(key, receipts.receipt(state, now).model_dump_json().encode())

    def _apply(self, store: Store, key: str, state: PaymentState | None, step: lifecycle.CorridorStep,
               record: Record | None) -> list[Out]:
        outputs = [Out(x.topic, x.key.encode(), x.value, x.headers) for x in step.sends]
        if step.reject is not None and record is not None:
            outputs.append(dead_letter(step.reject, record))
        index = self.waiting.setdefault(store.partition, {})
        if step.state is not None and step.state is not state:
            store.put(key, step.state.model_dump_json().encode())
            if step.state.phase is Phase.WAITING_FX and step.state.retry_at:
                index[key] = step.state.retry_at
            else:
                index.pop(key, None)
            since = receipts.at_rest_since(step.state)
            resting = self.resting.setdefault(store.partition, {})
            if since is not None:
                resting[key] = since
            else:
                resting.pop(key, None)
        elif state is None or state.phase is not Phase.WAITING_FX:
            index.pop(key, None)
        return outputs
