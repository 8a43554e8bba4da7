"""Reading the tracker topic: the latest journey snapshot of one UETR."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from router.config import Settings
from router.kafka_clients import client_options
from router.topics import topic_name


async def latest_journey(settings: Settings, uetr: str) -> dict[str, Any] | None:
    """Scan only the partition the UETR hashes to (Kafka's default partitioner) up to its end."""
    topic = topic_name("payments.status", settings.kafka.topic_prefix)
    consumer = AIOKafkaConsumer(**client_options(settings.kafka), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        parts = sorted(consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        if not parts:
            return None
        key = uetr.encode()
        tp = TopicPartition(topic, DefaultPartitioner()(key, parts, parts))
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: dict[str, Any] | None = None
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for record in batch.get(tp, []):
                if record.key == key and record.value:
                    found = json.loads(record.value)
        return found
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()
