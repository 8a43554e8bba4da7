"""Settlement processor: transactional aiokafka consume-transform-produce around the pure core.

Why not faust: its exactly_once mode hangs on this broker (and has open duplicate-on-kill
reports), so the settlement core runs as a plain loop with Kafka transactions, in the manner of
Kafka Streams' per-task exactly-once:

* One consumer group reads ``settlement.requests``, ``settlement.events`` and
  ``settlement.commands`` (same partition count, range assignor), so partition p of all
  three — a *task* — always belongs to one process. The task keeps the coordinator states and
  accounts hashed to p in memory, backed by partition p of two compacted changelogs.
* Each task has its own transactional producer, ``transactional_id = <app_id>.settlement.<p>``.
  Whoever takes over partition p initialises that id, which fences a zombie owner and aborts
  its open transaction at once (so restore never waits for a transaction timeout). aiokafka's
  ``send_offsets_to_transaction`` only takes a group id (no KIP-447 group-metadata fencing),
  which is why fencing must hang off a per-partition id rather than a per-process one.
* A batch for a task is one transaction: outputs, changelog updates and the consumed offsets
  commit together or not at all. In-memory changes are staged and applied only after commit.
* Timers (deadlines, liquidity waits) run as transactions of their own on the owning task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    ProducerFenced,
    TransactionalIdAuthorizationFailed,
)
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord, TopicPartition
from pydantic import ValidationError

from router.config import Settings
from router.dlq import dlq_headers
from router.kafka_clients import client_options
from router.outcome import FORMAT_ERROR, Reject
from router.settlement import ledger
from router.settlement.coordinator import Policy, SettlementState, Tick, due, handle
from router.settlement.dedup import ClaimState, claim
from router.settlement.model import (
    COMMAND,
    EVENT,
    REQUEST,
    AccountEvent,
    Claim,
    Decision,
    Outcome,
    command_key,
)
from router.settlement.state import (
    ACCT,
    ENTRY,
    MSGID,
    AccountValue,
    PartitionState,
    Staged,
    account_store_key,
    entry_store_key,
)
from router.topics import topic_name

log = logging.getLogger("router.settlement")

INPUTS = ("settlement.requests", "settlement.events", "settlement.commands")
CHANGELOGS = ("settlement.coordinator.state", "settlement.accounts.state")
FATAL = (ProducerFenced, InvalidProducerEpoch, TransactionalIdAuthorizationFailed)
STAGE = "settlement"


class Fenced(Exception):
    """Another process now owns one of our partitions; this process must stop."""


class TopologyError(Exception):
    """The settlement topics are missing or disagree on partition counts."""


async def partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> dict[str, set[int]]:
    """Partition numbers of ``topics`` (empty set for a topic that does not exist)."""
    cluster = await consumer._client.fetch_all_metadata()  # the public API has no metadata call
    return {t: set(cluster.partitions_for_topic(t) or ()) for t in topics}


def decode_account_value(key: str, raw: bytes) -> AccountValue:
    if key.startswith(ACCT):
        return ledger.AccountState.model_validate_json(raw)
    if key.startswith(ENTRY):
        return ledger.Entry.model_validate_json(raw)
    if key.startswith(MSGID):
        return ClaimState.model_validate_json(raw)
    raise ValueError(f"unknown account changelog key {key!r}")


@dataclass
class Output:
    topic: str
    key: str
    value: bytes
    partition: int | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Task:
    partition: int
    producer: AIOKafkaProducer
    state: PartitionState
    expected: dict[TopicPartition, int]  # next offset to process per input partition


class SettlementProcessor:
    def __init__(self, settings: Settings, *, instance: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.s = settings.settlement
        self.prefix = settings.kafka.topic_prefix
        self.group_id = f"{settings.app_id}.settlement"
        self.instance = instance
        self.clock = clock
        self.policy = Policy(pvp_deadline_s=self.s.pvp_deadline_s,
                             liquidity_max_wait_s=self.s.liquidity_max_wait_s,
                             opening_balances=self.s.opening_balances)
        self.physical = {name: topic_name(name, self.prefix) for name in (*INPUTS, *CHANGELOGS,
                                                                           "settlement.outcomes", "router.dlq")}
        self.logical = {v: k for k, v in self.physical.items()}
        self.tasks: dict[int, Task] = {}
        self.pending: set[int] = set()  # assigned partitions whose task is not initialised yet
        self.lock = asyncio.Lock()
        self.consumer: AIOKafkaConsumer | None = None
        self.restorer: AIOKafkaConsumer | None = None
        self.ready = asyncio.Event()
        self.stats = {"records": 0, "transactions": 0, "settlements": 0}
        self._partition_counts: dict[str, int] = {}
        self._partition_cache: dict[tuple[str, str], int] = {}

    # --- lifecycle ---

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        k = self.settings.kafka
        self.consumer = AIOKafkaConsumer(
            **client_options(k), group_id=self.group_id, enable_auto_commit=False,
            isolation_level="read_committed", auto_offset_reset="earliest",
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=int(k.session_timeout_s * 1000), rebalance_timeout_ms=int(k.rebalance_timeout_s * 1000),
            heartbeat_interval_ms=max(500, int(k.session_timeout_s * 1000) // 4),
            fetch_max_wait_ms=k.fetch_max_wait_ms, max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self.restorer = AIOKafkaConsumer(**client_options(k), group_id=None, enable_auto_commit=False,
                                         isolation_level="read_committed", fetch_max_wait_ms=k.fetch_max_wait_ms)
        await self.consumer.start()
        await self.restorer.start()
        try:
            await self._check_partitions()
            self.consumer.subscribe([self.physical[t] for t in INPUTS], listener=_Listener(self))
            next_tick = 0.0
            while not stop.is_set():
                batch = await self.consumer.getmany(timeout_ms=int(self.s.tick_interval_s * 1000),
                                                    max_records=self.s.max_batch)
                async with self.lock:
                    fresh = await self._init_pending()
                    if fresh:
                        # Records fetched before a (re)initialisation may start past the committed
                        # offset (after a failed transaction): the seek in _init_pending re-reads
                        # them in order, so these copies must not be processed.
                        batch = {tp: recs for tp, recs in batch.items() if tp.partition not in fresh}
                    if batch:
                        await self._process(batch)
                    now = self.clock()
                    if now >= next_tick:
                        next_tick = now + self.s.tick_interval_s
                        await self._ticks(now)
        finally:
            await self._close_tasks(list(self.tasks))
            await self.consumer.stop()
            await self.restorer.stop()

    async def _check_partitions(self) -> None:
        assert self.consumer is not None
        parts = await partitions(self.consumer, list(self.physical.values()))
        self._partition_counts = {topic: len(ps) for topic, ps in parts.items()}
        counts = {name: len(parts[self.physical[name]]) for name in (*INPUTS, *CHANGELOGS)}
        for name in ("settlement.outcomes", "router.dlq"):
            if not parts[self.physical[name]]:
                raise TopologyError(f"topic {self.physical[name]} does not exist (run `router topics create`)")
        if len(set(counts.values())) != 1 or 0 in counts.values():
            raise TopologyError(f"settlement topics must exist with one partition count: {counts} "
                               "(run `router topics create`)")

    # --- rebalance ---

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.lock:
            parts = {tp.partition for tp in revoked}
            self.pending -= parts
            await self._close_tasks([p for p in parts if p in self.tasks])

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        # Initialisation (producer, restore, offsets) happens in the main loop: consumer calls
        # from inside a rebalance callback can dead-lock against the group coordinator.
        self.pending |= {tp.partition for tp in assigned} - set(self.tasks)
        if not assigned:
            self.ready.set()
            print(f"settlement worker ready partitions=[] instance={self.instance}", flush=True)

    async def _close_tasks(self, parts: list[int]) -> None:
        for p in parts:
            task = self.tasks.pop(p, None)
            if task is not None:
                try:
                    await task.producer.stop()
                except Exception:  # a dead producer must not block the rebalance
                    log.exception("closing producer of partition %d", p)

    async def _init_pending(self) -> set[int]:
        """Initialise the tasks of newly assigned (or rewound) partitions; returns them."""
        if not self.pending:
            return set()
        assert self.consumer is not None
        owned = {tp.partition for tp in self.consumer.assignment()}
        parts = sorted(self.pending & owned)
        self.pending.clear()
        # Producers first: initialising partition p's transactional id fences its previous owner
        # and settles that owner's open transaction, so the changelog is final when we read it.
        producers = {p: await self._producer(p) for p in parts}
        t0 = time.monotonic()
        states = await self._restore(parts)
        for p in parts:
            expected: dict[TopicPartition, int] = {}
            for name in INPUTS:
                tp = TopicPartition(self.physical[name], p)
                committed = await self.consumer.committed(tp)
                if committed is None:
                    committed = (await self.consumer.beginning_offsets([tp]))[tp]
                expected[tp] = committed
                self.consumer.seek(tp, committed)
            self.tasks[p] = Task(p, producers[p], states[p], expected)
            log.info("partition %d: restored %d settlements, %d account records", p,
                     len(states[p].settlements), len(states[p].accounts))
        log.info("restored partitions %s in %.2f s", parts, time.monotonic() - t0)
        print(f"settlement worker ready partitions={sorted(self.tasks)} instance={self.instance}", flush=True)
        self.ready.set()
        return set(parts)

    async def _producer(self, p: int) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **client_options(self.settings.kafka), transactional_id=f"{self.settings.app_id}.settlement.{p}",
            enable_idempotence=True, acks="all", linger_ms=5, max_batch_size=256 * 1024, retry_backoff_ms=10,
            transaction_timeout_ms=self.s.transaction_timeout_ms,
        )
        await producer.start()  # init_transactions: fences the previous owner, aborts its open txn
        return producer

    async def _restore(self, parts: list[int]) -> dict[int, PartitionState]:
        """Read partitions ``parts`` of both changelogs to their end; decode only the last value
        per key (the changelog holds every version until compaction catches up)."""
        assert self.restorer is not None
        coord_topic = self.physical["settlement.coordinator.state"]
        tps = [TopicPartition(self.physical[name], p) for name in CHANGELOGS for p in parts]
        latest: dict[TopicPartition, dict[bytes, bytes | None]] = {tp: {} for tp in tps}
        if tps:
            self.restorer.assign(tps)
            await self.restorer.seek_to_beginning(*tps)
            ends = await self.restorer.end_offsets(tps)
            remaining = {tp for tp in tps if await self.restorer.position(tp) < ends[tp]}
            while remaining:
                batch = await self.restorer.getmany(*remaining, timeout_ms=500, max_records=50000)
                for tp, records in batch.items():
                    last = latest[tp]
                    for r in records:
                        if r.key is not None:
                            last[r.key] = r.value
                remaining = {tp for tp in remaining if await self.restorer.position(tp) < ends[tp]}
            self.restorer.unsubscribe()
        states = {p: PartitionState() for p in parts}
        for tp, values in latest.items():
            state = states[tp.partition]
            for raw_key, value in values.items():
                key = raw_key.decode()
                if tp.topic == coord_topic:
                    state.restore_settlement(key, None if value is None else SettlementState.model_validate_json(value))
                else:
                    state.restore_account(key, None if value is None else decode_account_value(key, value))
        return states

    # --- processing ---

    async def _process(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        by_task: dict[int, list[tuple[TopicPartition, list[ConsumerRecord[bytes, bytes]]]]] = defaultdict(list)
        for tp, records in batch.items():
            task = self.tasks.get(tp.partition)
            if task is None:
                continue  # not ours any more (or not yet): the owner reads from the committed offset
            fresh = [r for r in records if r.offset >= task.expected.get(tp, 0)]
            if fresh:
                by_task[tp.partition].append((tp, fresh))
        if by_task:
            await asyncio.gather(*(self._transact(self.tasks[p], parts) for p, parts in by_task.items()))

    async def _ticks(self, now: float) -> None:
        work = []
        for task in self.tasks.values():
            due_ids = [sid for sid in task.state.open_ids
                       if (d := due(task.state.settlements[sid])) is not None and d <= now]
            if due_ids:
                work.append(self._transact(task, [], tick_ids=due_ids))
        if work:
            await asyncio.gather(*work)

    async def _transact(self, task: Task,
                        parts: list[tuple[TopicPartition, list[ConsumerRecord[bytes, bytes]]]],
                        tick_ids: list[str] | None = None) -> None:
        staged = Staged(task.state)
        outputs: list[Output] = []
        now = self.clock()
        for tp, records in parts:
            name = self.logical[tp.topic]
            for r in records:
                self._one(staged, name, r, now, outputs)
        for sid in tick_ids or ():
            self._coordinate(staged, sid, Tick(), now, outputs)
        for changelog, key, value in staged.changes():
            outputs.append(Output(changelog, key, value, partition=task.partition))
        offsets = {tp: records[-1].offset + 1 for tp, records in parts}
        try:
            await task.producer.begin_transaction()
            await self._send_all(task.producer, outputs)
            if offsets:
                await task.producer.send_offsets_to_transaction(offsets, self.group_id)
            await task.producer.commit_transaction()
        except FATAL as exc:
            raise Fenced(f"partition {task.partition}: {exc!r}") from exc
        except KafkaError:
            log.exception("partition %d: transaction failed; rewinding", task.partition)
            await self._rewind(task)
            return
        staged.commit()
        task.expected.update(offsets)
        self.stats["records"] += sum(len(r) for _, r in parts)
        self.stats["settlements"] += sum(1 for o in outputs if o.headers == [("type", b"DECISION")])
        self.stats["transactions"] += 1

    async def _send_all(self, producer: AIOKafkaProducer, outputs: list[Output]) -> None:
        """Send ``outputs`` as one record batch per partition (order kept within a partition):
        per-record ``send`` calls cost more than the settlement logic itself."""
        groups: dict[tuple[str, int], list[Output]] = defaultdict(list)
        for o in outputs:
            topic = self.physical[o.topic]
            part = o.partition if o.partition is not None else self._partition_of(topic, o.key)
            groups[(topic, part)].append(o)
        futures = []
        for (topic, part), outs in groups.items():
            batch = producer.create_batch()
            for o in outs:
                key = o.key.encode()
                if batch.append(key=key, value=o.value, timestamp=None, headers=o.headers) is not None:
                    continue
                if batch.record_count():
                    futures.append(await producer.send_batch(batch, topic, partition=part))
                batch = producer.create_batch()
                if batch.append(key=key, value=o.value, timestamp=None, headers=o.headers) is None:
                    # larger than a whole batch: let send() size a batch for it alone
                    futures.append(await producer.send(topic, o.value, key=key, partition=part,
                                                       headers=o.headers or None))
                    batch = producer.create_batch()
            if batch.record_count():
                futures.append(await producer.send_batch(batch, topic, partition=part))
        await asyncio.gather(*futures)

    def _partition_of(self, topic: str, key: str) -> int:
        """The Java client's (and aiokafka's default) murmur2 partition of ``key``."""
        cached = self._partition_cache.get((topic, key))
        if cached is not None:
            return cached
        count = self._partition_counts[topic]
        part = int(murmur2(key.encode()) & 0x7FFFFFFF) % count
        if len(self._partition_cache) > 200_000:
            self._partition_cache.clear()
        self._partition_cache[(topic, key)] = part
        return part

    async def _rewind(self, task: Task) -> None:
        """After a failed transaction: forget the task; the main loop re-initialises it from
        Kafka (new producer aborts the open transaction, restore, seek to committed offsets).
        Until then its partitions' records are skipped, and re-read after the seek."""
        self.tasks.pop(task.partition, None)
        try:
            await task.producer.stop()
        except Exception:
            log.exception("stopping producer of partition %d", task.partition)
        self.pending.add(task.partition)

    def _one(self, staged: Staged, name: str, r: ConsumerRecord[bytes, bytes], now: float,
             outputs: list[Output]) -> None:
        try:
            if name == "settlement.requests":
                req = REQUEST.validate_json(r.value or b"")
                self._coordinate(staged, req.settlement_id, req, now, outputs)
            elif name == "settlement.events":
                if _header(r, "type") in (b"DECISION", b"FUNDED"):
                    return  # our own decisions / funding receipts: nothing to coordinate
                ev = EVENT.validate_json(r.value or b"")
                if isinstance(ev, AccountEvent):
                    self._coordinate(staged, ev.settlement_id, ev, now, outputs)
            else:
                self._account(staged, COMMAND.validate_json(r.value or b""), outputs)
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            reject = Reject(FORMAT_ERROR, f"undecodable {name} record: {exc}"[:2000], STAGE)
            headers = dlq_headers(reject, topic=r.topic, partition=r.partition, offset=r.offset,
                                  original=list(r.headers or ()))
            outputs.append(Output("router.dlq", (r.key or b"").decode("utf-8", "replace"), r.value or b"",
                                  headers=headers))

    def _coordinate(self, staged: Staged, sid: str, event: Any, now: float, outputs: list[Output]) -> None:
        before = staged.settlement(sid)
        step = handle(before, event, now, self.policy)
        if step.state is not None and step.state is not before:
            staged.put_settlement(sid, step.state)
        for cmd in step.commands:
            outputs.append(Output("settlement.commands", command_key(cmd), cmd.model_dump_json().encode(),
                                  headers=[("type", cmd.type.encode())]))
        for dec in step.decisions:
            outputs.append(_event_output(dec))
        for out in step.outcomes:
            outputs.append(_outcome_output(out))

    def _account(self, staged: Staged, cmd: Any, outputs: list[Output]) -> None:
        if isinstance(cmd, Claim):
            key = command_key(cmd)
            current = staged.account_value(key)
            new_claim, ev = claim(current if isinstance(current, ClaimState) else None, cmd)
            if new_claim is not current:
                staged.put_account_value(key, new_claim)
            outputs.append(_event_output(ev))
            return
        akey = account_store_key(cmd.account)
        acct = staged.account_value(akey)
        if not isinstance(acct, ledger.AccountState):
            acct = ledger.open_account(
                cmd.account, self.s.opening_balances.get(cmd.account),
                currency=ledger.command_currency(cmd) or cmd.account.rsplit("/", 1)[-1],
                owner=getattr(cmd, "owner", None) or self.s.owner_of(cmd.account))
        ekey = ledger.entry_key(cmd)
        entry = staged.account_value(entry_store_key(ekey))
        applied = ledger.apply(acct, entry if isinstance(entry, ledger.Entry) else None, cmd)
        if applied.account is not acct or staged.account_value(akey) is None:
            staged.put_account_value(akey, applied.account)
        for e in applied.entries:
            staged.put_account_value(entry_store_key((e.account, e.settlement_id, e.leg, e.role)), e)
        for ev in applied.events:
            outputs.append(_event_output(ev))


def _header(r: ConsumerRecord[bytes, bytes], name: str) -> bytes | None:
    for k, v in r.headers or ():
        if k == name:
            return bytes(v)
    return None


def _event_output(ev: AccountEvent | Decision) -> Output:
    return Output("settlement.events", ev.settlement_id, ev.model_dump_json().encode(),
                  headers=[("type", ev.type.encode())])


def _outcome_output(out: Outcome) -> Output:
    return Output("settlement.outcomes", out.uetr, out.model_dump_json().encode(),
                  headers=[("decision", out.decision.encode())])


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, proc: SettlementProcessor) -> None:
        self.proc = proc

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.proc.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.proc.on_assigned(set(assigned))


def stats_line(proc: SettlementProcessor) -> str:
    return json.dumps(proc.stats)
