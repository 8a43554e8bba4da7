"""Faults the demo injects into a running corridor: hostile traffic and a broker that dies or freezes.

``feed_hostile`` sends bad inputs into ``cips.in`` / ``corr.in`` beside the good traffic, and
``account_hostile`` reads ``router.dlq`` afterwards: every bad input must be there exactly once,
with its original bytes and a reason. ``BrokerChaos`` SIGKILLs the local broker and restarts it,
or SIGSTOPs it past the session timeout and SIGCONTs it, and measures how long the corridor took
to move again. It only ever touches a broker that ``deploy/local/kafka`` started in the state dir
it is given, never one on the shared default port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from connectors.hostile import HOSTILE_ID, Hostile
from router import dlq
from router.config import Settings
from router.kafka_clients import client_options
from router.topics import topic_name

REPO = Path(__file__).resolve().parents[1]


async def feed_hostile(s: Settings, records: list[Hostile], duration_s: float) -> int:
    """Send ``records`` spread over ``duration_s``; returns how many were sent."""
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all", max_request_size=4 * 1024 * 1024,
                                request_timeout_ms=120_000)
    await producer.start()
    pause = duration_s / max(1, len(records))
    try:
        for i, h in enumerate(records):
            await producer.send(topic_name(h.topic, s.kafka.topic_prefix), h.value, key=h.key,
                                headers=[(HOSTILE_ID, h.id.encode()), ("hostile-kind", h.kind.encode())])
            if pause >= 0.005 or i % 50 == 0:
                await asyncio.sleep(pause if pause >= 0.005 else 0.25)
        await producer.flush()
    finally:
        await producer.stop()
    return len(records)


async def account_hostile(s: Settings, records: list[Hostile], *, timeout_s: float = 30.0) -> dict[str, Any]:
    """Read ``router.dlq`` and match it to the bad inputs sent: counts by kind and by reason."""
    sent = {h.id: h for h in records}
    seen: Counter[str] = Counter()
    bytes_kept: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    other = 0
    consumer = AIOKafkaConsumer(topic_name("router.dlq", s.kafka.topic_prefix), **client_options(s.kafka),
                                group_id=None, auto_offset_reset="earliest", isolation_level="read_committed",
                                enable_auto_commit=False, fetch_max_bytes=8 * 1024 * 1024,
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    deadline = time.monotonic() + timeout_s
    try:
        end = await consumer.end_offsets(list(consumer.assignment()) or await _partitions(consumer))
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                for r in recs:
                    h = dict(r.headers or ())
                    hid = h.get(HOSTILE_ID, b"").decode()
                    if hid not in sent:
                        other += 1
                        continue
                    seen[hid] += 1
                    code = h.get(dlq.REASON_CODE, b"?").decode()
                    reasons[code] += 1
                    by_kind[sent[hid].kind][code] += 1
                    if (r.value or b"") == (sent[hid].value or b""):
                        bytes_kept[hid] += 1
            positions = {tp: await consumer.position(tp) for tp in end}
            if all(positions[tp] >= off for tp, off in end.items()):
                if all(seen[k] for k in sent):
                    break
                end = await consumer.end_offsets(list(end))  # stragglers still being refused
                await asyncio.sleep(0.5)
    finally:
        await consumer.stop()
    missing = [k for k in sent if seen[k] == 0]
    return {
        "sent": len(sent),
        "in_dlq": sum(1 for k in sent if seen[k] >= 1),
        "dlq_records": sum(seen.values()),
        "duplicated_in_dlq": sum(1 for k in sent if seen[k] > 1),
        "original_bytes_kept": sum(1 for k in sent if bytes_kept[k] >= 1),
        "missing": len(missing),
        "missing_kinds": dict(Counter(sent[k].kind for k in missing)),
        "by_reason": dict(sorted(reasons.items())),
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "other_dlq_records": other,
    }


async def _partitions(consumer: AIOKafkaConsumer) -> list[Any]:
    from aiokafka.structs import TopicPartition

    (topic,) = consumer.subscription()
    parts = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    return tps


class BrokerChaos:
    """Kill / freeze the broker that ``deploy/local/kafka`` runs from ``state_dir`` on ``port``."""

    def __init__(self, port: int, state_dir: Path, last_progress: Callable[[], float]) -> None:
        if port == 9092:
            raise ValueError("broker chaos kills the broker: give it one of its own (KAFKA_PORT=19192 "
                             "KAFKA_HOME_DIR=...), never the shared one on 9092")
        self.port = port
        self.state = state_dir
        self.last_progress = last_progress
        self.env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_HOME_DIR": str(state_dir)}
        self.faults: list[dict[str, Any]] = []

    def pid(self) -> int:
        return int((self.state / "kafka.pid").read_text().strip())

    def start_broker(self) -> None:
        subprocess.run([str(REPO / "deploy" / "local" / "kafka"), "start"], env=self.env, check=True,
                       timeout=600, capture_output=True)

    async def run(self, faults: int, duration_s: float, session_timeout_s: float, rng: random.Random) -> None:
        # At least two kills and one freeze, then alternating.
        plan = ["kill", "stop", "kill"] + ["stop" if i % 2 else "kill" for i in range(max(0, faults - 3))]
        spacing = max(8.0, duration_s / (faults + 1))
        for kind in plan[:faults]:
            await asyncio.sleep(rng.uniform(0.6, 1.0) * spacing)
            t0 = time.monotonic()
            pid = self.pid()
            if kind == "kill":
                os.kill(pid, signal.SIGKILL)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(self.start_broker)
            else:
                os.kill(pid, signal.SIGSTOP)
                await asyncio.sleep(session_timeout_s + 3.0)  # past every consumer's session timeout
                os.kill(pid, signal.SIGCONT)
            back = time.monotonic()
            recover = None
            deadline = back + 180.0
            while time.monotonic() < deadline:
                if self.last_progress() > back:
                    recover = round(self.last_progress() - back, 2)
                    break
                await asyncio.sleep(0.1)
            self.faults.append({"fault": "SIGKILL+restart" if kind == "kill" else "SIGSTOP/SIGCONT",
                                "broker_down_s": round(back - t0, 2), "recovered_after_s": recover})

    def resume(self) -> None:
        """Never leave the broker frozen (the demo stopped while a freeze was on)."""
        with contextlib.suppress(OSError, ValueError):
            os.kill(self.pid(), signal.SIGCONT)
