"""A keyed, stateful stream processor on Kafka transactions (aiokafka), for the payment path.

Why not faust for the stages that move money: under SIGKILL the faust at-least-once consumer
was seen committing an offset whose record was never processed (one of 2,000 payments lost in a
``router demo --chaos 5`` run; faust-streaming's open offset-commit bugs #606 and #312 describe
the same class of fault), and faust's exactly-once mode hangs on this broker. This processor
follows Kafka Streams' per-task exactly-once:

* one consumer group reads the stage's co-partitioned inputs (range assignor), so partition p
  of every input - a *task* - belongs to one process at a time;
* each task has its own transactional producer, ``transactional_id = <app>.<stage>.<p>``: whoever
  takes partition p over fences the previous owner and aborts its open transaction at once;
* each batch of a task is one transaction: outputs, state changes (partition p of each of the
  stage's compacted changelogs) and consumed offsets commit together or not at all; the in-memory
  state takes the staged changes only after the commit;
* on assignment a task restores its state from its changelogs (read_committed), then resumes
  from the committed offsets.

The stage's logic is pure apart from the state it is handed: ``process`` and ``tick`` read and
stage state and return the records to send. Most stages keep one ``Store`` of bytes
(``StoreLogic``); a stage with richer state brings its own ``State`` (settlement: the ledger's
``Book``), kept over a ``DiskStore`` when the state is on disk (``OverStore``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import InvalidProducerEpoch, KafkaError, ProducerFenced, TransactionalIdAuthorizationFailed
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord, RecordMetadata, TopicPartition
from rocksdict import Options

from router.config import Settings
from router.kafka_clients import client_options
from router.log_context import CURRENT
from router.streams.disk_store import DiskStore, Fingerprint, rocksdb_options, shared_cache
from router.streams.store import Store
from router.topics import topic_name

log = logging.getLogger(__name__)
FATAL = (ProducerFenced, InvalidProducerEpoch, TransactionalIdAuthorizationFailed)
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class Fenced(Exception):
    """Another process owns this task now: this one must stop."""


class StateDirError(Exception):
    """The stores' directory (``state.dir``) cannot be created or written."""


class TopologyError(Exception):
    """The stage's topics are missing or not co-partitioned."""


@dataclass(frozen=True, slots=True)
class Out:
    topic: str  # logical (declared) topic name
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None  # None: the default partitioner's choice (murmur2 of the key)


def record_headers(record: Record) -> list[tuple[str, bytes]]:
    """A consumed record's headers as (name, bytes) pairs, kept when the record is passed on."""
    return [(str(k), bytes(v or b"")) for k, v in record.headers or ()]


class Observer(Protocol):
    """What a stage's operations wiring (metrics) learns from the processor: kept to two calls per
    transaction or restore, so the processor itself holds no metrics code."""

    def committed(self, seconds: float, outputs: list[Out]) -> None: ...  # a transaction committed

    def restored(self, seconds: float) -> None: ...  # state restored after an assignment


class State(Protocol):
    """A task's state as the processor handles it: loaded from the changelogs on assignment; the
    changes a transaction staged are sent with it and applied only after it has committed."""

    def load(self, changelog: str, key: str, value: bytes) -> None: ...

    def changes(self) -> list[tuple[str, str, bytes | None]]: ...  # (changelog, key, value) staged

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def __len__(self) -> int: ...


S = TypeVar("S", bound=State)


class Logic(Protocol[S]):
    @property
    def name(self) -> str: ...  # the stage's name: group id and transactional ids derive from it

    @property
    def inputs(self) -> tuple[str, ...]: ...  # logical topics, all with the same partition count

    @property
    def changelogs(self) -> tuple[str, ...]: ...  # compacted logical topics holding the state

    @property
    def outputs(self) -> tuple[str, ...]: ...  # further topics that must exist before it starts

    def new_state(self, partition: int) -> S: ...

    def process(self, state: S, topic: str, record: Record) -> list[Out]: ...

    def tick(self, state: S) -> list[Out]: ...  # runs in every transaction of the task

    def restored(self, state: S) -> None: ...


S_co = TypeVar("S_co", bound=State, covariant=True)


class OverStore(Protocol[S_co]):
    """A stage whose state is richer than a ``Store`` but kept on disk in one (the ledger's book:
    hot values in memory, the rest in the store). The processor checkpoints, restores and copies
    the store as any other; the state is built over it once it has caught up with the changelog,
    and commits and rolls it back with itself."""

    def open_store(self, partition: int, path: Path, options: Options, flush_interval_s: float) -> DiskStore: ...

    def over_store(self, store: DiskStore) -> S_co: ...


class StoreLogic:
    """What a stage whose state is one ``Store`` (in ``changelog``, if any) shares: subclasses set
    ``name`` and ``inputs`` and write ``process``; ``tick`` and ``restored`` do nothing unless
    overridden."""

    changelog: str | None = None
    outputs: tuple[str, ...] = ()

    @property
    def changelogs(self) -> tuple[str, ...]:
        return (self.changelog,) if self.changelog else ()

    def new_state(self, partition: int) -> Store:
        return Store(partition, self.changelog)

    def tick(self, store: Store) -> list[Out]:
        return []

    def restored(self, store: Store) -> None:
        return None


@dataclass
class Task(Generic[S]):
    partition: int
    producer: AIOKafkaProducer
    state: S
    store: DiskStore | None = None  # the state's store on disk (the state itself, or under it)
    expected: dict[TopicPartition, int] = field(default_factory=dict)
    # Work processed since the last commit (``kafka.commit_interval_ms``): the outputs to send and
    # the input offsets to commit with the state's staged changes, all in one transaction.
    outputs: list[Out] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    records: int = 0
    since: float | None = None  # monotonic time of the first uncommitted work

    def position(self, tp: TopicPartition) -> int:
        """The next offset of ``tp`` this task has not processed (committed or not)."""
        return self.offsets.get(tp, self.expected.get(tp, 0))


class TransactionalProcessor(Generic[S]):
    def __init__(self, settings: Settings, logic: Logic[S], *, tick_interval_s: float = 0.25,
                 max_batch: int = 500, linger_ms: int = 2, transaction_timeout_ms: int = 20000,
                 max_partition_fetch_bytes: int = 1024 * 1024,
                 on_ready: Callable[[list[int]], None] | None = None, observer: Observer | None = None) -> None:
        self.settings = settings
        self.observer = observer
        self.logic = logic
        self.prefix = settings.kafka.topic_prefix
        self.group_id = f"{settings.app_id}.{logic.name}"
        self.tick_interval_s = tick_interval_s
        self.commit_interval_s = settings.kafka.commit_interval_ms / 1000
        self.max_batch = max_batch
        self.linger_ms = linger_ms
        self.transaction_timeout_ms = transaction_timeout_ms
        self.max_partition_fetch_bytes = max_partition_fetch_bytes
        self.on_ready = on_ready
        self.tasks: dict[int, Task[S]] = {}
        self.pending: set[int] = set()
        self.lock = asyncio.Lock()
        self.consumer: AIOKafkaConsumer | None = None
        self.restorer: AIOKafkaConsumer | None = None
        self.stats = {"records": 0, "transactions": 0, "rewinds": 0}
        self._physical: dict[str, str] = {}
        self._logical = {self.physical(t): t for t in (*logic.inputs, *logic.changelogs)}
        self._partition_counts: dict[str, int] = {}  # physical topic -> partitions
        self._hash_cache: dict[bytes, int] = {}  # key -> murmur2, the default partitioner's hash
        # State on disk (settings.state): one RocksDB store per partition, kept open while the
        # process runs, whether it owns the task or keeps a standby copy of it.
        self.on_disk = (settings.state.backend == "rocksdb" and len(logic.changelogs) == 1
                        and (isinstance(logic, StoreLogic) or hasattr(logic, "over_store")))
        self.disk: dict[int, DiskStore] = {}
        self.standby: AIOKafkaConsumer | None = None
        self._standby_parts: set[int] = set()
        self._standby_behind: set[int] = set()  # copies not yet caught up with their changelog

    def physical(self, logical: str) -> str:
        name = self._physical.get(logical)
        if name is None:
            name = self._physical[logical] = topic_name(logical, self.prefix)
        return name

    def logical(self, physical: str) -> str:
        """The declared name of one of this stage's input or changelog topics."""
        return self._logical.get(physical, physical)

    async def run(self, stop: asyncio.Event) -> None:
        k = self.settings.kafka
        if self.on_disk:
            try:
                self._state_dir().mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateDirError(f"{self.logic.name}: the state directory is not usable ({exc}): "
                                    "set ROUTER_STATE__DIR to a writable directory") from exc
        self.consumer = AIOKafkaConsumer(
            **client_options(k), group_id=self.group_id, enable_auto_commit=False,
            isolation_level="read_committed", auto_offset_reset="earliest",
            partition_assignment_strategy=(RangePartitionAssignor,),
            group_instance_id=k.instance_id,
            session_timeout_ms=int(k.session_timeout_s * 1000), rebalance_timeout_ms=int(k.rebalance_timeout_s * 1000),
            heartbeat_interval_ms=max(500, int(k.session_timeout_s * 1000) // 4),
            fetch_max_wait_ms=k.fetch_max_wait_ms, fetch_min_bytes=k.fetch_min_bytes,
            max_partition_fetch_bytes=self.max_partition_fetch_bytes)
        self.restorer = AIOKafkaConsumer(**client_options(k), group_id=None, enable_auto_commit=False,
                                         isolation_level="read_committed", fetch_max_wait_ms=k.fetch_max_wait_ms,
                                         max_partition_fetch_bytes=8 * 1024 * 1024,
                                         fetch_max_bytes=32 * 1024 * 1024)
        if self.on_disk and self.settings.state.standby_replicas > 0:
            # Large fetches: a standby copy is fed only between the main loop's batches, and a
            # new copy must catch up with a whole changelog.
            self.standby = AIOKafkaConsumer(**client_options(k), group_id=None, enable_auto_commit=False,
                                            isolation_level="read_committed", fetch_max_wait_ms=k.fetch_max_wait_ms,
                                            max_partition_fetch_bytes=16 * 1024 * 1024,
                                            fetch_max_bytes=64 * 1024 * 1024)
        await self.consumer.start()
        await self.restorer.start()
        if self.standby is not None:
            await self.standby.start()
        if self.on_disk:
            _prune_dead_instances(self._state_dir().parent)
        try:
            await self._check_topology()
            self.consumer.subscribe([self.physical(t) for t in self.logic.inputs], listener=_Listener(self))
            next_tick = 0.0
            while not stop.is_set():
                wait = min(self.tick_interval_s, self._until_commit())
                batch = await self.consumer.getmany(timeout_ms=int(wait * 1000), max_records=self.max_batch)
                async with self.lock:
                    fresh = await self._init_pending()
                    # Records fetched before a task was (re)initialised may start past its committed
                    # offset; the seek in _init_pending re-reads them in order.
                    batch = {tp: recs for tp, recs in batch.items() if tp.partition not in fresh}
                    if batch:
                        await self._process(batch)
                    if self.standby is not None:
                        await self._standby_sync()
                        await self._standby_poll()
                    now = time.monotonic()
                    if now >= next_tick:
                        next_tick = now + self.tick_interval_s
                        await asyncio.gather(*(self._transact(t, []) for t in list(self.tasks.values())))
                    if self._until_commit() <= 0:
                        # Every task's work at once: the loop waits for one round of commits per
                        # interval, not one per task.
                        await asyncio.gather(*(self._commit(t) for t in list(self.tasks.values())
                                               if t.since is not None))
        finally:
            async with self.lock:
                await self._commit_all()
                for p in list(self.tasks):
                    await self._drop(p)
            await self.consumer.stop()
            await self.restorer.stop()
            if self.standby is not None:
                await self.standby.stop()
            self._close_disk()

    async def _check_topology(self) -> None:
        assert self.consumer is not None
        counts = {}
        deadline = time.monotonic() + 10.0  # a topic created a moment ago may not be in metadata yet
        for name in (*self.logic.inputs, *self.logic.changelogs, *self.logic.outputs):
            parts = self.consumer.partitions_for_topic(self.physical(name))
            while not parts and time.monotonic() < deadline:
                await self.consumer._client.force_metadata_update()
                parts = self.consumer.partitions_for_topic(self.physical(name))
                if not parts:
                    await asyncio.sleep(0.25)
            counts[name] = len(parts or ())
        self._partition_counts = {self.physical(name): n for name, n in counts.items()}
        copartitioned = {counts[name] for name in (*self.logic.inputs, *self.logic.changelogs)}
        if 0 in counts.values() or len(copartitioned) != 1:
            raise TopologyError(f"{self.logic.name}: topics must exist, inputs and changelogs with one partition "
                                f"count: {counts} (run `router topics create`)")

    # --- rebalance: work happens in the main loop, not inside the group coordinator's callback ---

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.lock:
            parts = {tp.partition for tp in revoked}
            self.pending -= parts
            # Work already processed is committed before the task goes (as Kafka Streams does on
            # revocation), so that the next owner does not do it again.
            await self._commit_all({p for p in parts if p in self.tasks})
            for p in parts:
                await self._drop(p)

    def _until_commit(self) -> float:
        """Seconds until the oldest uncommitted work of a task is due to commit."""
        since = [t.since for t in self.tasks.values() if t.since is not None]
        if not since:
            return self.tick_interval_s
        return max(0.0, min(since) + self.commit_interval_s - time.monotonic())

    async def _commit_all(self, parts: AbstractSet[int] | None = None) -> None:
        """Commit every task's uncommitted work (of ``parts`` only, if given); a task whose
        commit fails is rewound as on any failed transaction (its work is done again by
        whoever owns the partition next)."""
        tasks = [t for p, t in self.tasks.items() if t.since is not None and (parts is None or p in parts)]
        results = await asyncio.gather(*(self._commit(t) for t in tasks), return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("%s partition %d: uncommitted work dropped at hand-over: %r",
                            self.logic.name, task.partition, result)

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        self.pending |= {tp.partition for tp in assigned} - set(self.tasks)
        if not assigned and self.on_ready is not None:
            self.on_ready([])

    async def _drop(self, p: int) -> None:
        task = self.tasks.pop(p, None)
        if task is not None:
            try:
                await task.producer.stop()
            except Exception:  # a dead producer must not block the rebalance
                log.exception("%s: closing producer of partition %d", self.logic.name, p)

    async def _init_pending(self) -> set[int]:
        if not self.pending:
            return set()
        assert self.consumer is not None
        owned = {tp.partition for tp in self.consumer.assignment()}
        parts = sorted(self.pending & owned)
        self.pending.clear()
        # The producer first: initialising partition p's transactional id fences the previous owner
        # and ends its open transaction, so the changelog is final when it is read.
        # Concurrently: each start and fencing is a few round trips to the transaction coordinator.
        producers = dict(zip(parts, await asyncio.gather(*(self._producer(p) for p in parts)), strict=True))
        if self.standby is not None:
            await self._standby_sync(exclude=set(parts))  # the task's store is the restore's alone now
        t0 = time.monotonic()
        states = await self._restore(parts)
        inputs = [TopicPartition(self.physical(name), p) for p in parts for name in self.logic.inputs]
        offsets = dict(zip(inputs, await asyncio.gather(*(self.consumer.committed(tp) for tp in inputs)), strict=True))
        unset = [tp for tp, offset in offsets.items() if offset is None]
        if unset:
            offsets.update(await self.consumer.beginning_offsets(unset))
        for p in parts:
            task = Task(p, producers[p], states[p], self.disk.get(p) if self.on_disk else None)
            for tp in inputs:
                if tp.partition == p:
                    committed = offsets[tp]
                    assert committed is not None
                    task.expected[tp] = committed
                    self.consumer.seek(tp, committed)
            self.logic.restored(task.state)
            self.tasks[p] = task
        took = time.monotonic() - t0
        log.info("%s: tasks %s ready (%d keys restored in %.2f s)", self.logic.name, parts,
                 sum(len(states[p]) for p in parts), took)
        if self.observer is not None:
            self.observer.restored(took)
        if self.on_ready is not None:
            self.on_ready(sorted(self.tasks))
        return set(parts)

    async def _producer(self, p: int) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **client_options(self.settings.kafka), transactional_id=f"{self.settings.app_id}.{self.logic.name}.{p}",
            enable_idempotence=True, acks="all", linger_ms=self.linger_ms, max_batch_size=256 * 1024,
            retry_backoff_ms=10, transaction_timeout_ms=self.transaction_timeout_ms)
        await producer.start()
        return producer

    async def _restore(self, parts: list[int]) -> dict[int, S]:
        """Read partitions ``parts`` of the changelogs to their end; load only the last value per
        key (the changelog holds every version until compaction catches up)."""
        if self.on_disk:
            stores = {p: self._store(p) for p in parts}
            await self._catch_up(stores)
            return {p: self._state_over(store) for p, store in stores.items()}
        states = {p: self.logic.new_state(p) for p in parts}
        if not self.logic.changelogs or not parts:
            return states
        assert self.restorer is not None
        tps = [TopicPartition(self.physical(name), p) for name in self.logic.changelogs for p in parts]
        latest: dict[TopicPartition, dict[bytes, bytes | None]] = {tp: {} for tp in tps}
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
        for tp, values in latest.items():
            state, changelog = states[tp.partition], self._logical[tp.topic]
            for key, value in values.items():
                if value is not None:
                    state.load(changelog, key.decode(), value)
        return states

    async def _process(self, batch: dict[TopicPartition, list[Record]]) -> None:
        by_task: dict[int, list[tuple[TopicPartition, list[Record]]]] = defaultdict(list)
        for tp, records in batch.items():
            task = self.tasks.get(tp.partition)
            if task is None:
                continue  # not ours (any more, or yet): its owner reads from the committed offset
            start = task.position(tp)
            fresh = [r for r in records if r.offset >= start]
            if fresh:
                by_task[tp.partition].append((tp, fresh))
        await asyncio.gather(*(self._transact(self.tasks[p], parts) for p, parts in by_task.items()))

    async def _transact(self, task: Task[S], parts: list[tuple[TopicPartition, list[Record]]]) -> None:
        """Process ``parts`` (and the stage's tick) into the task's uncommitted work; commit it at
        once when ``kafka.commit_interval_ms`` is 0, else the main loop commits every task's work
        when the oldest piece has waited the interval.

        Committing every interval instead of every fetched batch is Kafka Streams'
        ``commit.interval.ms``: a transaction costs the broker and the client the same whether it
        carries 5 records or 500 (begin, partitions added, offsets, end, and a marker in every
        partition it wrote), and a payment state changed twice in one interval is written to the
        changelog once."""
        outputs = task.outputs
        n = len(outputs)
        stage, p = self.logic.name, task.partition
        # Log lines written while a record is processed name it (router.log_context); the
        # context is this asyncio task's own, so concurrent tasks do not mix.
        for tp, records in parts:
            topic = self._logical[tp.topic]
            for r in records:
                CURRENT.set((stage, p, r))
                outputs += self.logic.process(task.state, topic, r)
            task.offsets[tp] = records[-1].offset + 1
            task.records += len(records)
        CURRENT.set((stage, p, None))
        outputs += self.logic.tick(task.state)
        if task.since is None and (parts or len(outputs) > n or task.state.changes()):
            task.since = time.monotonic()
        if not self.commit_interval_s and task.since is not None:
            await self._commit(task)

    async def _commit(self, task: Task[S]) -> None:
        """One transaction: the task's outputs, its state's changes and its input offsets."""
        changes = task.state.changes()
        outputs, offsets, records = task.outputs, task.offsets, task.records
        task.outputs, task.offsets, task.records, task.since = [], {}, 0, None
        if not offsets and not outputs and not changes:
            return
        outputs += [Out(changelog, key.encode(), value, partition=task.partition) for changelog, key, value in changes]
        producer = task.producer
        t0 = time.perf_counter()
        try:
            await producer.begin_transaction()
            written = await self._send_all(producer, outputs)
            if offsets:
                await producer.send_offsets_to_transaction(offsets, self.group_id)
            await producer.commit_transaction()
        except FATAL as exc:
            raise Fenced(f"{self.logic.name} partition {task.partition}: {exc!r}") from exc
        except KafkaError:
            log.exception("%s partition %d: transaction failed; rewinding", self.logic.name, task.partition)
            task.state.rollback()
            self.stats["rewinds"] += 1
            await self._drop(task.partition)
            self.pending.add(task.partition)  # re-initialised from Kafka by the main loop
            return
        if changes and task.store is not None:
            # The store's resume offset: the last changelog batch this transaction wrote.
            changelog = self.logic.changelogs[0]
            physical = self.physical(changelog)
            bases = [m.offset for m in written if m.topic == physical and m.partition == task.partition]
            if bases:
                # This task's producer alone writes the partition (others are fenced) and the
                # idempotent producer never duplicates a batch, so the transaction's changelog
                # records sit at consecutive offsets from the first batch's base: the store has
                # everything before the one that follows them.
                mine = [o for o in outputs if o.topic == changelog and o.partition == task.partition]
                start = min(bases)
                task.store.wrote(changelog, start + len(mine), Fingerprint.of(start, mine[0].key, mine[0].value))
        if self.observer is not None:
            self.observer.committed(time.perf_counter() - t0, outputs)
        task.state.commit()
        task.expected.update(offsets)
        self.stats["records"] += records
        self.stats["transactions"] += 1

    async def _send_all(self, producer: AIOKafkaProducer, outputs: list[Out]) -> list[RecordMetadata]:
        """Send ``outputs`` as one record batch per partition, in order within a partition:
        per-record ``send`` calls cost more than a stage's logic."""
        topics = {self.physical(o.topic) for o in outputs}
        for topic in topics - set(self._partition_counts):
            self._partition_counts[topic] = len(await producer.partitions_for(topic))
        groups: dict[tuple[str, int], list[Out]] = defaultdict(list)
        for o in outputs:
            topic = self.physical(o.topic)
            part = o.partition if o.partition is not None else self._partition_of(topic, o.key)
            groups[(topic, part)].append(o)
        futures = []
        for (topic, part), outs in groups.items():
            batch = producer.create_batch()
            for o in outs:
                if batch.append(key=o.key, value=o.value, timestamp=None, headers=list(o.headers)) is not None:
                    continue
                if batch.record_count():
                    futures.append(await producer.send_batch(batch, topic, partition=part))
                batch = producer.create_batch()
                if batch.append(key=o.key, value=o.value, timestamp=None, headers=list(o.headers)) is None:
                    # larger than a whole batch: let send() size a batch for it alone
                    futures.append(await producer.send(topic, o.value, key=o.key, partition=part,
                                                       headers=list(o.headers) or None))
                    batch = producer.create_batch()
            if batch.record_count():
                futures.append(await producer.send_batch(batch, topic, partition=part))
        return list(await asyncio.gather(*futures))

    # --- state on disk: stores, catching up from the changelog, standby copies ---

    def _state_dir(self) -> Path:
        """This process's stores for the stage. Per instance: two processes on one host never
        share a store, and a process restarted under its static-membership name finds its own."""
        st, k = self.settings.state, self.settings.kafka
        instance = k.instance_id or f"pid-{os.getpid()}"
        return st.dir / self.settings.app_id / (self.prefix or "-") / instance / self.logic.name

    def _store(self, p: int) -> DiskStore:
        """Partition ``p``'s store, opened once and kept while the process runs."""
        store = self.disk.get(p)
        if store is None:
            st = self.settings.state
            options = rocksdb_options(st.write_buffer_mb, shared_cache(st.block_cache_mb))
            path = self._state_dir() / str(p)
            if hasattr(self.logic, "open_store"):
                store = cast(OverStore[S], self.logic).open_store(p, path, options, st.flush_interval_s)
            else:
                store = DiskStore(p, self.logic.changelogs[0], path, options, flush_interval_s=st.flush_interval_s)
            self.disk[p] = store
        return store

    def _state_over(self, store: DiskStore) -> S:
        """The task's state on a store that has caught up: the store itself, or what the stage
        builds over it."""
        if hasattr(self.logic, "over_store"):
            return cast(OverStore[S], self.logic).over_store(store)
        return cast(S, store)

    def _close_disk(self) -> None:
        for store in self.disk.values():
            store.close()
        self.disk.clear()
        if self.on_disk and self.settings.kafka.instance_id is None:
            shutil.rmtree(self._state_dir().parent, ignore_errors=True)  # no later process will look for it

    async def _seek_resume(self, consumer: AIOKafkaConsumer, stores: dict[TopicPartition, DiskStore],
                           ) -> dict[TopicPartition, int]:
        """Position ``consumer`` at each store's resume offset, or at the changelog's beginning
        (wiping the store) where that offset cannot be trusted. Returns the changelogs' ends."""
        tps = list(stores)
        begins = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        for tp, store in stores.items():
            changelog = self._logical[tp.topic]
            resume = store.resume_offset(changelog)
            why = None
            if resume is not None and not begins[tp] <= resume <= ends[tp]:
                why = f"it resumes at {resume}, outside the changelog's {begins[tp]}..{ends[tp]}"
            elif resume is not None:
                why = await self._differs(consumer, tp, store.fingerprint(changelog))
            if resume is None or why is not None:
                if why is not None:
                    log.warning("%s partition %d: rebuilding the local store: %s", self.logic.name, tp.partition, why)
                store.wipe()
                resume = begins[tp]
            consumer.seek(tp, resume)
        return dict(ends)

    async def _differs(self, consumer: AIOKafkaConsumer, tp: TopicPartition, fp: Fingerprint | None) -> str | None:
        """Why the changelog is not the one the store was built from, if the record the store
        remembers is there and differs (a topic deleted and created again under the same name)."""
        if fp is None:
            return None
        consumer.seek(tp, fp.offset)
        batch = await consumer.getmany(tp, timeout_ms=2000, max_records=1)
        records = batch.get(tp, [])
        if not records or records[0].offset != fp.offset:
            return None  # compacted away, or a transaction marker: nothing to compare
        r = records[0]
        if fp.matches(r.offset, r.key, r.value):
            return None
        return f"the changelog's record at offset {fp.offset} is not the one the store applied"

    async def _catch_up(self, stores: dict[int, DiskStore]) -> None:
        """Replay each store's changelog from its resume offset to the end: after a clean stop
        or with a warm standby copy, the tail only; on a new host, the whole changelog."""
        assert self.restorer is not None
        changelog = self.logic.changelogs[0]
        by_tp = {TopicPartition(self.physical(changelog), p): s for p, s in stores.items()}
        self.restorer.assign(list(by_tp))
        ends = await self._seek_resume(self.restorer, by_tp)
        remaining = {tp for tp in by_tp if await self.restorer.position(tp) < ends[tp]}
        replayed = 0
        last: dict[TopicPartition, Fingerprint] = {}
        while remaining:
            # Small fetches: a store on disk needs no more than a batch in memory at a time. A short
            # wait: past the resume offset there is often only a transaction marker (or an aborted
            # transaction after a rewind), which returns no records; the position moves past it all
            # the same, and waiting out a long timeout for it made every restore ~0.5 s slower.
            batch = await self.restorer.getmany(*remaining, timeout_ms=50, max_records=_DISK_RESTORE_BATCH)
            for tp, records in batch.items():
                if records:
                    last[tp] = _load(by_tp[tp], records)
                replayed += len(records)
            remaining = {tp for tp in remaining if await self.restorer.position(tp) < ends[tp]}
        for tp, store in by_tp.items():
            store.loaded_to(changelog, max(ends[tp], await self.restorer.position(tp)), last.get(tp))
        self.restorer.unsubscribe()
        _give_back_freed_memory()
        log.info("%s: stores %s caught up, %d changelog records replayed", self.logic.name,
                 sorted(stores), replayed)

    async def _standby_sync(self, exclude: AbstractSet[int] = frozenset()) -> None:
        """Keep a standby copy of every task of the stage this process does not own."""
        assert self.standby is not None
        physical = self.physical(self.logic.changelogs[0])
        count = self._partition_counts.get(physical, 0)
        want = set(range(count)) - set(self.tasks) - self.pending - exclude
        if want == self._standby_parts:
            return
        # Positions follow from the stores' checkpoints (written after every poll), so re-seeking
        # every copy on a change is exact.
        self.standby.assign([TopicPartition(physical, p) for p in sorted(want)])
        self._standby_parts = want
        self._standby_behind = set(want)
        if want:
            await self._seek_resume(self.standby, {TopicPartition(physical, p): self._store(p) for p in want})

    async def _standby_poll(self) -> None:
        if self.standby is None or not self._standby_parts:
            return
        changelog = self.logic.changelogs[0]
        batch = await self.standby.getmany(timeout_ms=0, max_records=20000)
        for tp, records in batch.items():
            store = self.disk.get(tp.partition)
            if store is None or tp.partition not in self._standby_parts or not records:
                continue
            store.loaded_to(changelog, records[-1].offset + 1, _load(store, records))
        if self._standby_behind:
            for tp in self.standby.assignment():
                stable = self.standby.last_stable_offset(tp)
                if stable is not None and await self.standby.position(tp) >= stable:
                    self._standby_behind.discard(tp.partition)
            if not self._standby_behind:
                log.info("%s: standby copies %s caught up", self.logic.name, sorted(self._standby_parts))

    def _partition_of(self, topic: str, key: bytes | None) -> int:
        """The default partitioner's choice (the Java client's too): murmur2 of the key."""
        count = self._partition_counts[topic]
        if key is None:
            return random.randrange(count)
        # Per key, not per topic: a payment's records on several topics share its key, and murmur2
        # in pure Python (~4 us) was a few percent of the corridor's CPU.
        hashed = self._hash_cache.get(key)
        if hashed is None:
            if len(self._hash_cache) > 200_000:
                self._hash_cache.clear()
            hashed = self._hash_cache[key] = int(murmur2(key) & 0x7FFFFFFF)
        return hashed % count


_DISK_RESTORE_BATCH = 5000


def _load(store: DiskStore, records: list[Record]) -> Fingerprint:
    """Changelog records, in offset order, into a store; the fingerprint of the last one."""
    for r in records:
        if r.key is not None:
            store.load_record(r.key.decode(), r.value)
    last = records[-1]
    return Fingerprint.of(last.offset, last.key, last.value)


def _give_back_freed_memory() -> None:
    """After a restore: hand the fetch buffers' freed pages back to the OS (glibc keeps them in
    its arenas otherwise, and RSS would stay at the restore's peak)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _prune_dead_instances(instances: Path) -> None:
    """Remove stores left by processes that had no static name and died (SIGKILL): no process
    will ever look for them again."""
    if not instances.is_dir():
        return
    for d in instances.glob("pid-*"):
        try:
            pid = int(d.name[4:])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            continue


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, proc: TransactionalProcessor[Any]) -> None:
        self.proc = proc

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.proc.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.proc.on_assigned(assigned)
