"""Kafka I/O for ``router dlq``: read the DLQ and the replay markers, replay in one transaction.

Exactly once, also against a concurrent or crashed replay: every replay uses the same
transactional id, so starting one fences any other still running and waits until its
transaction is committed or aborted; only then are the markers read. A record is either
re-injected together with its marker or not at all.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import IllegalOperation, InvalidProducerEpoch, ProducerFenced

from router.config import Settings
from router.dlq_replay import DeadLetter, Plan, Selection, marker_key, marker_value, plan, replay_headers
from router.kafka_clients import client_options
from router.topics import topic_name

DLQ = "router.dlq"
MARKERS = "router.dlq.replays"


async def _read_all(settings: Settings, topic: str, *, partition: int | None = None,
                    from_offset: int | None = None) -> list[DeadLetter]:
    """Every committed record of a topic (or one partition, from an offset) up to its current end,
    each as a DeadLetter (for the markers topic that is just the record and its position)."""
    physical = topic_name(topic, settings.kafka.topic_prefix)
    consumer = AIOKafkaConsumer(**client_options(settings.kafka), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        # A consumer that subscribed to nothing has no topic metadata yet (as in the processor).
        await consumer._client.force_metadata_update()
        parts = set(consumer.partitions_for_topic(physical) or ())
        if not parts:
            raise LookupError(f"topic {physical} does not exist; run `router topics create`")
        if partition is not None:
            if partition not in parts:
                raise LookupError(f"{physical} has no partition {partition}")
            parts = {partition}
        tps = [TopicPartition(physical, p) for p in sorted(parts)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            if from_offset is not None:
                consumer.seek(tp, from_offset)
            else:
                await consumer.seek_to_beginning(tp)
        out: list[DeadLetter] = []
        remaining = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                out.extend(DeadLetter(tp.partition, r.offset, r.key, r.value or b"", tuple(r.headers or ()))
                           for r in records if r.offset < ends[tp])
            # Positions pass transaction markers too, so this ends even on a partition that ends in one.
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return out
    finally:
        await consumer.stop()


async def read_dead_letters(settings: Settings, selection: Selection) -> list[DeadLetter]:
    return await _read_all(settings, DLQ, partition=selection.partition, from_offset=selection.from_offset)


async def read_markers(settings: Settings) -> dict[bytes, bytes]:
    return {r.key: r.value for r in await _read_all(settings, MARKERS) if r.key is not None}


class ReplayFenced(RuntimeError):
    """Another replay started while this one ran; this one wrote nothing."""


@dataclass(frozen=True, slots=True)
class Result:
    plan: Plan
    committed: bool


async def replay(settings: Settings, selection: Selection, *, note: str = "", dry_run: bool = False,
                 now: datetime | None = None) -> Result:
    """Re-inject the chosen dead letters to their source topics, with their markers, in one transaction."""
    prefix = settings.kafka.topic_prefix
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all", enable_idempotence=True,
                                transactional_id=f"{settings.app_id}.dlq-replay")
    result: Result | None = None
    try:
        await producer.start()  # fences an older replay and completes its transaction first
        letters = await read_dead_letters(settings, selection)
        chosen = plan(letters, selection, await read_markers(settings), prefix)
        if dry_run or not chosen.replay:
            return Result(chosen, committed=False)
        at = now or datetime.now(UTC)
        markers = topic_name(MARKERS, prefix)
        async with producer.transaction():
            for letter, prov in chosen.replay:
                await producer.send(prov.topic, letter.value, key=letter.key, partition=prov.partition,
                                    headers=replay_headers(letter))
                await producer.send(markers, marker_value(letter, prov, at=at, note=note),
                                    key=marker_key(letter, prov))
        result = Result(chosen, committed=True)
    except (ProducerFenced, InvalidProducerEpoch, IllegalOperation):
        # Fenced by a newer replay: depending on when, the producer says so directly, or its
        # transaction is already gone when it sends. Either way nothing was committed.
        pass  # reported below, after the producer is gone
    finally:
        await producer.stop()
        # A fenced producer leaves internal futures holding ProducerFenced that nobody awaits. Let
        # them go here: finalised later, inside some unrelated ast.parse (pytest's assertion
        # rewriting), their traceback logging trips CPython 3.11's non-reentrant AST builder
        # ("AST constructor recursion depth mismatch"). Hence no exception chaining below either.
        del producer
        gc.collect()
    if result is None:
        raise ReplayFenced("another `router dlq replay` started meanwhile; this one replayed nothing "
                           "(its transaction was aborted): run it again to see what is left")
    return result
