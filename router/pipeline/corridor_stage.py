"""Corridor stage: the per-payment orchestrator, wired to Kafka.

It reads every event about a payment, all keyed by UETR and co-partitioned: ``cips.in`` and
``corr.in`` (raw XML from both sides, taken in by ``intake`` in the same transaction: parse,
validate, normalise, or refuse with a DLQ record and a reply), ``screening.results`` (the screening stage's verdicts),
``screening.decisions`` (analysts) and ``settlement.outcomes`` (PvP decisions). It keeps one
``PaymentState`` per UETR, calls the pure handlers in ``router.corridor.lifecycle`` and sends what
they return, in one Kafka transaction with the state change and the consumed offsets. Payments
waiting for a fresh FX quote are retried by the processor's timer. FX quotes are read into memory
on every worker by a background task (``fx.rates`` is one compacted partition).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import msgspec
from pydantic import ValidationError

from router.config import IngestSettings
from router.corridor import conditional, lifecycle, outbound, receipts
from router.corridor import state as state_codec
from router.corridor.effects import Send
from router.corridor.ports import Ports, Verdict
from router.corridor.state import PaymentState, Phase
from router.dlq import dead_letter
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
from router.pipeline import intake
from router.settlement.model import OUTCOME
from router.streams.processor import Out, Record, StoreLogic, record_headers
from router.streams.store import Store
from router.tracker.journey import PaymentOutcome

if TYPE_CHECKING:
    from router.observe.payments import CorridorObserver

log = logging.getLogger(__name__)
# The journey's INFO lines (``log_journey``: one per payment outcome, or one per hop): their own
# logger, so a deployment can silence them without losing the stage's other lines.
journey_log = logging.getLogger("router.journey")
CACHE_SIZE = 10_000  # decoded payment states kept: the payments in flight, with room to spare
# Index keys the stage keeps beside the payments in its store (and so in its changelog): a restore
# reads them instead of decoding every stored payment. UETR keys never start with a control byte.
WAITING = "\x01wait|"  # + UETR -> when to retry a payment waiting for an FX quote (ISO 8601)
HELD = "\x01held|"  # + UETR -> b"1": payments held for an analyst (the holds gauge after a restore)
# + sequence number -> postings (msgspec JSON) waiting for their accounts' next camt.054, one key
# per transaction that booked any: a takeover finds them and notifies them.
NOTICES = "\x01ntf|"
SOURCES = ("cips.in", "corr.in", "screening.results", "screening.decisions", "settlement.outcomes",
           "conditions.events")


def on_message(message: CanonicalMessage, side: Side, state: PaymentState | None, ports: Ports,
               now: datetime) -> lifecycle.CorridorStep:
    """Apply a message received from ``side`` (already validated and normalised by intake)."""
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


def handle(topic: str, value: bytes, state: PaymentState | None, ports: Ports,
           now: datetime) -> lifecycle.CorridorStep:
    """Decode one internal event and apply it. Pure apart from ``ports``; undecodable input is a reject."""
    try:
        if topic == "screening.results":
            v = json.loads(value)
            verdict = Verdict(outcome=v["outcome"], reason_code=v.get("reason_code"), text=v.get("reason") or "")
            return lifecycle.on_screening_result(state, verdict, ports, now)
        if topic == "screening.decisions":
            return lifecycle.on_screening_decision(state, json.loads(value), ports, now)
        if topic == "settlement.outcomes":
            return lifecycle.on_settlement(state, OUTCOME.validate_json(value), ports, now)
        if topic == "conditions.events":
            return conditional.on_condition_event(state, value, ports, now)
    except (ValidationError, ValueError) as exc:
        return lifecycle.CorridorStep(state, reject=Reject(FORMAT_ERROR, f"undecodable {topic} record: {exc}"[:500],
                                                           "corridor"))
    return lifecycle.CorridorStep(state, reject=Reject(NARRATIVE, f"unexpected topic {topic}", "corridor"))


class CorridorLogic(StoreLogic):
    """The per-payment orchestrator as transactional-processor logic: state per UETR in the
    compacted ``corridor.state`` changelog, outputs and state committed in one transaction."""

    name: str = "corridor"
    inputs: tuple[str, ...] = SOURCES
    changelog: str | None = "corridor.state"

    def __init__(self, ports: Ports, clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 max_message_bytes: int = IngestSettings().max_message_bytes,
                 observer: CorridorObserver | None = None,
                 journey_lines: Literal["outcome", "hops", "off"] = "outcome") -> None:
        self.ports = ports
        self.observer = observer
        self.journey_lines = journey_lines
        self.max_bytes = max_message_bytes
        self.router_bic = ports.settings.router_bic
        self.clock = clock
        self.waiting: dict[int, dict[str, datetime]] = {}  # partition -> UETR -> retry_at
        self.next_sweep: dict[int, datetime] = {}
        self.sweep_from: dict[int, str | None] = {}  # partition -> the last key the sweep read
        # UETR -> (stored bytes, decoded, the payment's JSON when this process encoded it, the store
        # and its generation when cached). An OrderedDict: a plain dict evicted from the front
        # rescans every deleted slot before it on each ``next(iter())`` (1.8 µs an eviction at
        # 10,000 entries, against 0.35 µs).
        self.cache: OrderedDict[str, tuple[bytes, PaymentState, bytes | None, Store, int]] = OrderedDict()
        self.booked: dict[int, list[outbound.Booking]] = {}  # partition -> this transaction's postings
        self.notice_keys: dict[int, list[str]] = {}  # partition -> stored NOTICES keys, oldest first
        self.notice_due: dict[int, datetime] = {}  # partition -> when the stored postings must go out

    def restored(self, store: Store) -> None:
        waiting = self.waiting.setdefault(store.partition, {})
        waiting.clear()
        for key, raw in store.scan(WAITING):
            waiting[key[len(WAITING):]] = datetime.fromisoformat(raw.decode())
        self.sweep_from[store.partition] = None
        self.booked.pop(store.partition, None)
        keys = sorted(key for key, _ in store.scan(NOTICES))
        self.notice_keys[store.partition] = keys
        if keys:
            self.notice_due[store.partition] = self.clock()  # the previous owner's: send them now
        else:
            self.notice_due.pop(store.partition, None)
        if self.observer is not None:
            self.observer.restored(store.partition, {key[len(HELD):] for key, _ in store.scan(HELD)})

    def process(self, store: Store, topic: str, record: Record) -> list[Out]:
        key = (record.key or b"").decode("utf-8", "replace")
        accepted: intake.Accepted | None = None
        if topic in intake.SIDE_OF:
            received = intake.receive(record, topic, max_bytes=self.max_bytes, router_bic=self.router_bic)
            if isinstance(received, list):
                return received  # refused: the DLQ record and the sender's reply
            accepted = received
            if accepted.uetr and accepted.uetr != key:
                # Keyed by something else than its payment's UETR: every event of a payment must
                # meet in one task, so send it round again under the UETR (same bytes and headers).
                return [Out(topic, accepted.uetr.encode(), record.value, tuple(record_headers(record)))]
        return self.on_event(store, key, topic, record, accepted)

    def on_event(self, store: Store, key: str, topic: str, record: Record,
                 accepted: intake.Accepted | None = None) -> list[Out]:
        """Apply one event to the payment ``key``: a message taken in from either side
        (``accepted``), or an internal record of ``topic``."""
        if key.startswith(WAITING[0]):
            return [dead_letter(Reject(FORMAT_ERROR, "record key is reserved for the corridor's own index",
                                       "corridor"), record)]
        now = self.clock()
        state = self._trusted(store, key)
        if state is None:
            raw = store.get(key) if key else None
            if raw is not None and receipts.is_receipt(raw):
                message: object = accepted.message if accepted else f"{topic} record"
                sends, reject = receipts.on_event(receipts.Receipt.model_validate_json(raw), message,
                                                  accepted.side if accepted else None, self.ports, now)
                return self._apply(store, key, None, lifecycle.CorridorStep(None, sends, reject), record)
            state = self._decoded(store, key, raw)
        try:
            if accepted is not None:
                step = on_message(accepted.message, accepted.side, state, self.ports, now)
            else:
                step = handle(topic, record.value or b"", state, self.ports, now)
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
            state = self._trusted(store, key) or self._decoded(store, key, store.get(key))
            outputs += self._apply(store, key, state, lifecycle.on_retry(state, self.ports, now), None)
        self._sweep(store, now)
        return outputs + self._notify(store, now)

    def _notify(self, store: Store, now: datetime) -> list[Out]:
        """The camt.054s that are due. Postings booked in this transaction join those waiting in
        the store; every ``notification_interval_s`` all of them go out, one message per account,
        in the same transaction that removes them from the store. (Run last in every transaction,
        so no posting is staged in memory across a commit.)"""
        p = store.partition
        fresh = self.booked.pop(p, [])
        keys = self.notice_keys.setdefault(p, [])
        interval = self.ports.settings.corridor.notification_interval_s
        if not fresh and not keys:
            return []
        due = self.notice_due.get(p)
        if due is None:
            due = self.notice_due[p] = now + timedelta(seconds=interval)
        if now < due:
            if fresh:
                key = f"{NOTICES}{int(keys[-1][len(NOTICES):]) + 1 if keys else 0:012d}"
                store.put(key, msgspec.json.encode(fresh))
                keys.append(key)
            return []
        booked: list[outbound.Booking] = []
        for key in keys:
            raw = store.get(key)
            if raw is not None:
                booked += outbound.BOOKINGS.decode(raw)
            store.put(key, None)
        keys.clear()
        del self.notice_due[p]
        booked += fresh
        return _outs(outbound.notifications(self.ports, booked, now))

    def _sweep(self, store: Store, now: datetime) -> None:
        """Shrink payments at rest for longer than the retention to receipts. Each sweep reads the
        next slice of the store in key order (bounded work, and no in-memory index of every
        payment), archiving at most ``max_archived_per_sweep``."""
        c = self.ports.settings.corridor
        p = store.partition
        if now < self.next_sweep.get(p, now):
            return
        self.next_sweep[p] = now + timedelta(seconds=c.sweep_interval_s)
        retention = timedelta(days=c.retention_days)
        rows = store.scan_after(self.sweep_from.get(p), c.sweep_scan_per_pass)
        self.sweep_from[p] = rows[-1][0] if len(rows) == c.sweep_scan_per_pass else None
        archived = 0
        for key, _ in rows:
            raw = store.get(key)  # the running transaction may have changed it
            if key.startswith(WAITING[0]) or raw is None or receipts.is_receipt(raw):
                continue
            try:
                # Not through _decoded: a sweep reads payments at rest and would evict those in flight.
                state = self._cached(key, raw) or state_codec.decode(raw)
            except ValueError as exc:  # msgspec's and pydantic's errors too: a bad value must not stop the stage
                log.warning("corridor: stored value of %r does not decode; the sweep passes it by: %s", key,
                            str(exc).splitlines()[0])
                continue
            if state is not None and receipts.due(state, now, retention):
                store.put(key, receipts.receipt(state, now).model_dump_json().encode())
                self.cache.pop(key, None)
                archived += 1
                if archived >= c.max_archived_per_sweep:
                    self.sweep_from[p] = key
                    break

    def _decoded(self, store: Store, key: str, raw: bytes | None) -> PaymentState | None:
        """The payment's state: decoded once per change. The cache holds the bytes it decoded and
        answers only for the same bytes, so a value a rolled-back transaction staged, or one
        restored from the changelog, is never mistaken for it (a store on disk hands out a new
        bytes object per read, hence equality and not identity)."""
        if raw is None:
            return None
        state = self._cached(key, raw)
        if state is None:
            state = state_codec.decode(raw)
        self._remember(store, key, raw, state, self._payment_json(key, state))
        return state

    def _trusted(self, store: Store, key: str) -> PaymentState | None:
        """The cached state of ``key`` when this process read or wrote it last in ``store`` (the
        store's generation has not moved since): no store read needed. None: read the store."""
        hit = self.cache.get(key)
        return hit[1] if hit is not None and hit[3] is store and hit[4] == store.generation else None

    def _payment_json(self, key: str, state: PaymentState) -> bytes | None:
        """The JSON of ``state``'s payment the cache holds, when it holds that same payment."""
        hit = self.cache.get(key)
        return hit[2] if hit is not None and hit[1].payment is state.payment else None

    def _cached(self, key: str, raw: bytes) -> PaymentState | None:
        """The decoded state the cache holds for exactly these bytes, if any."""
        hit = self.cache.get(key)
        return hit[1] if hit is not None and (hit[0] is raw or hit[0] == raw) else None

    def _remember(self, store: Store, key: str, raw: bytes, state: PaymentState,
                  payment_json: bytes | None) -> None:
        """Cache ``state``, the store's value of ``key`` as of now: ``on_event`` trusts it without
        reading the store until the store's generation moves (a rollback, a changelog load)."""
        self.cache[key] = (raw, state, payment_json, store, store.generation)
        self.cache.move_to_end(key)
        if len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)  # the least recently changed

    def _apply(self, store: Store, key: str, state: PaymentState | None, step: lifecycle.CorridorStep,
               record: Record | None) -> list[Out]:
        outputs = _outs(step.sends)
        if step.bookings:
            self.booked.setdefault(store.partition, []).extend(step.bookings)
        if step.reject is not None and record is not None:
            outputs.append(dead_letter(step.reject, record))
        index = self.waiting.setdefault(store.partition, {})
        if step.state is not None and step.state is not state:
            encoded, payment_json = state_codec.encode(step.state, self._payment_json(key, step.state))
            store.put(key, encoded)
            self._remember(store, key, encoded, step.state, payment_json)
            if step.state.phase is Phase.WAITING_FX and step.state.retry_at:
                if index.get(key) != step.state.retry_at:
                    index[key] = step.state.retry_at
                    store.put(WAITING + key, step.state.retry_at.isoformat().encode())
            elif index.pop(key, None) is not None:
                store.put(WAITING + key, None)
            was_held = state is not None and state.phase is Phase.HELD
            if (step.state.phase is Phase.HELD) != was_held:
                store.put(HELD + key, None if was_held else b"1")
            if self.observer is not None:
                self.observer.changed(store.partition, key, state, step.state)
            if self.journey_lines != "off" and journey_log.isEnabledFor(logging.INFO):
                if self.journey_lines == "hops":
                    _log_hops(key, state, step.state)
                else:
                    _log_outcome(key, state, step.state)
        elif (state is None or state.phase is not Phase.WAITING_FX) and index.pop(key, None) is not None:
            store.put(WAITING + key, None)
        return outputs


def _outs(sends: Iterable[Send]) -> list[Out]:
    return [Out(x.topic, x.key.encode(), x.value, x.headers) for x in sends]


def _log_outcome(uetr: str, before: PaymentState | None, after: PaymentState) -> None:
    """One log line when the payment reaches its outcome, with its journey hop by hop, named as
    ``router track`` names it; the record being processed adds stage, partition and offset."""
    outcome = after.journey.outcome
    if outcome is PaymentOutcome.IN_FLIGHT or (before is not None and before.journey.outcome is outcome):
        return
    hops = [h.stage.value for h in after.journey.hops]
    journey_log.info("payment %s %s: %s", uetr, outcome.value, " > ".join(hops),
                     extra={"uetr": uetr, "outcome": outcome.value, "hops": hops, "phase": after.phase.value,
                            "reason": after.reason})


def _log_hops(uetr: str, before: PaymentState | None, after: PaymentState) -> None:
    """One log line per hop this step added to the payment's journey, named as ``router track``
    names it (``hop``); the record being processed adds stage, partition and offset."""
    seen = {h.id for h in before.journey.hops} if before is not None else set()
    for h in after.journey.hops:
        if h.id not in seen:
            journey_log.info("payment %s %s", uetr, h.stage.value,
                     extra={"uetr": uetr, "hop": h.stage.value, "by": h.by, "reason": h.reason,
                            "phase": after.phase.value, "outcome": after.journey.outcome.value})
