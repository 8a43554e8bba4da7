"""Settlement stage: the ledger shard, wired to Kafka.

It reads ``settlement.requests`` (settlement requests and fundings; one partition per ledger
shard, today one shard) and keeps the shard's ``Book`` in the compacted
``settlement.ledger.state`` changelog. It calls the pure ``router.settlement.pvp`` functions and
sends what they return in one Kafka transaction with the state changes and the consumed offsets:
the journal (``settlement.events``: openings, fundings and one ``Booked`` record per
settlement) and the outcomes the corridor waits for (``settlement.outcomes``, keyed by UETR).
The processor's timer opens configured accounts after a restore, rejects queued settlements at
their queue deadline and runs the retention sweep. ``router settle-worker`` runs it. With
``state.backend = rocksdb`` the decided receipts and MsgId claims live in the task's RocksDB store,
not in memory (``router.settlement.book``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from router.config import Settings
from router.dlq import dead_letter
from router.outcome import FORMAT_ERROR, INVALID_CURRENCY, NARRATIVE, Reject
from router.pipeline.ledger_store import DiskReceipts, LedgerStore
from router.settlement import pvp
from router.settlement.book import LEDGER_CHANGELOG, Book
from router.settlement.model import (
    LEDGER_INPUT,
    Booked,
    CapSet,
    Execute,
    Fund,
    Funded,
    Opened,
    Release,
    Reserved,
    SetCap,
    SettlementOutcome,
)
from router.settlement.settings import DAY_S, SettlementSettings
from router.streams.disk_store import DiskStore
from router.streams.processor import Observer, Out, Record, TransactionalProcessor

if TYPE_CHECKING:
    from pathlib import Path

    from rocksdict import Options

    from router.observe.settlement import SettlementObserver

STAGE = "settlement"


class SettlementLogic:
    name: str = STAGE
    inputs: tuple[str, ...] = ("settlement.requests",)
    changelogs: tuple[str, ...] = (LEDGER_CHANGELOG,)
    outputs: tuple[str, ...] = ("settlement.events", "settlement.outcomes", "router.dlq")

    def __init__(self, s: SettlementSettings, clock: Callable[[], float] = time.time,
                 observer: SettlementObserver | None = None) -> None:
        self.s = s
        self.observer = observer
        self.clock = clock
        self.policy = pvp.Policy(pvp_deadline_s=s.pvp_deadline_s, liquidity_max_wait_s=s.liquidity_max_wait_s,
                                 owner_of=s.owner_of, net_debit_caps=dict(s.net_debit_caps))
        # decisions committed, and LSM runs / settlements they booked, over all tasks this worker has had
        self.stats = {"settlements": 0, "lsm_runs": 0, "lsm_settlements": 0}
        self.next_scan = 0.0
        self.next_sweep = 0.0
        self.next_lsm = 0.0

    def new_state(self, partition: int) -> Book:
        return Book(partition)

    # State on disk (``state.backend = rocksdb``): the book over the task's store, which also keeps
    # the indexes its receipts need (``router.pipeline.ledger_store``).

    def open_store(self, partition: int, path: Path, options: Options, flush_interval_s: float) -> DiskStore:
        return LedgerStore(partition, LEDGER_CHANGELOG, path, options, flush_interval_s)

    def over_store(self, store: DiskStore) -> Book:
        if not isinstance(store, LedgerStore):
            raise TypeError(f"the ledger's book needs a LedgerStore, not {type(store).__name__}")
        return Book(store.partition, DiskReceipts(store, self.s.receipt_cache))

    def restored(self, book: Book) -> None:
        book.opened = False  # the next tick opens any configured account the changelog lacks
        if self.observer is not None:
            self.observer.restored(book)

    def process(self, book: Book, topic: str, r: Record) -> list[Out]:
        raw = r.value or b""
        try:
            item = LEDGER_INPUT.validate_json(raw)
        except (ValidationError, ValueError) as exc:
            return [dead_letter(Reject(FORMAT_ERROR, f"undecodable {topic} record: {exc}"[:2000], STAGE), r)]
        now = self.clock()
        if isinstance(item, Fund):
            fx = pvp.fund(book, item, now, self.policy)
            if fx.refused:
                return [dead_letter(Reject(INVALID_CURRENCY, fx.refused, STAGE), r)]
        elif isinstance(item, Execute):
            fx = pvp.execute(book, item, now, self.policy)
        elif isinstance(item, Release):
            fx = pvp.release(book, item, now, self.policy)
        elif isinstance(item, SetCap):
            fx = pvp.set_cap(book, item, now, self.policy)
        else:
            fx = pvp.settle(book, item, now, self.policy, raw)
        out = self._outputs(book, fx, now)
        if fx.refused:  # an EXECUTE or RELEASE with nothing to act on (after any release it caused)
            out.append(dead_letter(Reject(NARRATIVE, fx.refused, STAGE), r))
        return out

    def tick(self, book: Book) -> list[Out]:
        now = self.clock()
        fx = pvp.Effects()
        if not book.opened:
            fx.extend(pvp.open_accounts(book, self.s.opening_balances, now, self.s.owner_of))
        if now >= self.next_scan:
            self.next_scan = now + self.s.tick_interval_s
            fx.extend(pvp.expire(book, now, self.policy))
            if self.s.lsm and len(book.queue) > 1 and now >= self.next_lsm:
                self.next_lsm = now + self.s.lsm_interval_s
                runs: list[pvp.OffsetRun] = []
                fx.extend(pvp.offset(book, now, self.policy, runs))
                self.stats["lsm_runs"] += len(runs)
                self.stats["lsm_settlements"] += sum(r.settlements for r in runs)
        if now >= self.next_sweep:
            self.next_sweep = now + self.s.sweep_interval_s
            pvp.sweep(book, now, self.s.retention_days * DAY_S, self.s.max_archived_per_sweep)
        return self._outputs(book, fx, now)

    def _outputs(self, book: Book, fx: pvp.Effects, now: float) -> list[Out]:
        if self.observer is not None and fx.outcomes:
            self.observer.outcomes(book, fx.outcomes, now)
        out = [_journal_output(j, book.partition) for j in fx.journal]
        out += [_outcome_output(o) for o in fx.outcomes]
        self.stats["settlements"] += sum(1 for j in fx.journal if isinstance(j, Booked))
        return out


def settlement_processor(settings: Settings, *, on_ready: Callable[[list[int]], None] | None = None,
                         logic: SettlementLogic | None = None,
                         observer: Observer | None = None) -> TransactionalProcessor[Book]:
    """The settlement stage on the transactional processor, tuned by ``settings.settlement``."""
    s = settings.settlement
    return TransactionalProcessor(
        settings, logic or SettlementLogic(s), tick_interval_s=s.tick_interval_s, max_batch=s.max_batch,
        linger_ms=5, transaction_timeout_ms=s.transaction_timeout_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024, on_ready=on_ready, observer=observer)


def _journal_output(j: Opened | Funded | Reserved | Booked | CapSet, shard: int) -> Out:
    if isinstance(j, (Booked, Reserved)):
        key = j.settlement_id
    elif isinstance(j, CapSet):
        key = j.participant
    elif isinstance(j, Funded):
        key = j.posting.account
    else:
        key = j.account
    # The journal of a shard is one partition: read in order, it replays the shard's ledger.
    return Out("settlement.events", key.encode(), j.model_dump_json().encode(), (("type", j.type.encode()),),
               partition=shard)


def _outcome_output(out: SettlementOutcome) -> Out:
    return Out("settlement.outcomes", out.uetr.encode(), out.model_dump_json().encode(),
               (("decision", out.decision.encode()),))
