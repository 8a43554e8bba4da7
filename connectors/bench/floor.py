"""The exactly-once hop floor: how fast one process moves records through one transactional
consume-produce hop on this broker, with nothing else to do.

Benchmarks report their figures beside it, measured in the same run, because the machine is
shared and noisy: a ratio to the floor means more than a bare rate.
"""

from __future__ import annotations

import os
import time
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from router.config import Settings
from router.kafka_clients import client_options


async def eos_hop_floor(s: Settings, *, records: int = 40000, size: int = 2048, per_transaction: int = 2000,
                        broker: psutil.Process | None = None) -> dict[str, Any]:
    k = s.kafka
    src, dst = f"{k.topic_prefix}floor.in", f"{k.topic_prefix}floor.out"
    admin = AIOKafkaAdminClient(**client_options(k))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 1, k.replication_factor) for t in (src, dst)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**client_options(k), acks="all", linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        payload = os.urandom(size // 2).hex().encode()
        futures = [await producer.send(src, payload, key=str(i).encode()) for i in range(records)]
        await producer.flush()
        for f in futures:
            await f
    finally:
        await producer.stop()

    group = f"{s.app_id}.floor"
    consumer = AIOKafkaConsumer(src, **client_options(k), group_id=group, enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest",
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    tx = AIOKafkaProducer(**client_options(k), transactional_id=f"{s.app_id}.floor", enable_idempotence=True,
                          acks="all", linger_ms=5, max_batch_size=512 * 1024)
    await consumer.start()
    await tx.start()
    moved = 0
    transactions = 0
    me = psutil.Process()
    try:
        cpu0, broker0, t0 = cpu_seconds(me), cpu_seconds(broker), time.perf_counter()
        while moved < records:
            batch = await consumer.getmany(timeout_ms=1000, max_records=per_transaction)
            if not batch:
                continue
            async with tx.transaction():
                offsets: dict[TopicPartition, int] = {}
                for tp, recs in batch.items():
                    out = tx.create_batch()
                    for r in recs:
                        if out.append(key=r.key, value=r.value, timestamp=None) is None:
                            await tx.send_batch(out, dst, partition=0)
                            out = tx.create_batch()
                            out.append(key=r.key, value=r.value, timestamp=None)
                    await tx.send_batch(out, dst, partition=0)
                    offsets[tp] = recs[-1].offset + 1
                    moved += len(recs)
                await tx.send_offsets_to_transaction(offsets, group)
            transactions += 1
        wall, cpu, broker_cpu = time.perf_counter() - t0, cpu_seconds(me) - cpu0, cpu_seconds(broker) - broker0
    finally:
        await tx.stop()
        await consumer.stop()
    result: dict[str, Any] = {
        "records": moved, "record_bytes": size, "transactions": transactions,
        "records_per_s": round(moved / wall), "client_cpu_us_per_record": round(1e6 * cpu / moved, 1),
    }
    if broker is not None:
        result["broker_cpu_us_per_record"] = round(1e6 * broker_cpu / moved, 1)
        result["cpu_us_per_record_total"] = round(1e6 * (cpu + broker_cpu) / moved, 1)
    return result


def cpu_seconds(p: psutil.Process | None) -> float:
    """User + system CPU seconds a process has used (0 for no process)."""
    if p is None:
        return 0.0
    t = p.cpu_times()
    return float(t.user + t.system)
