"""Small aiokafka helpers for integration tests: produce, consume until a condition, run a worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from router.config import Settings
from router.kafka_clients import client_options
from router.procs import RouterProcess, spawn
from router.procs import free_port as free_port  # re-exported for tests
from router.procs import settings_env as settings_env  # re-exported for tests
from router.topics import topic_name


async def produce(
    settings: Settings, topic: str, value: bytes, *, key: bytes | None = None,
    headers: Iterable[tuple[str, bytes]] = (),
) -> None:
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name(topic, settings.kafka.topic_prefix), value, key=key,
                                     headers=list(headers))
    finally:
        await producer.stop()


async def consume(
    settings: Settings, topic: str, *, until: Callable[[list[ConsumerRecord]], bool],
    timeout: float = 30.0,
) -> list[ConsumerRecord]:
    """Read ``topic`` from the beginning (read_committed) until ``until(records)`` or timeout."""
    consumer = AIOKafkaConsumer(
        topic_name(topic, settings.kafka.topic_prefix), **client_options(settings.kafka), group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False, isolation_level="read_committed",
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


def start_worker(settings: Settings, log: Path, *args: str, ready_marker: str = "Ready",
                 timeout: float = 60.0) -> RouterProcess:
    """Start ``router worker ARGS`` in a child process and wait for its ready line."""
    w = spawn(settings, log, "worker", *args)
    try:
        w.wait_for(ready_marker, timeout)
    except Exception:
        w.stop()
        raise
    return w

