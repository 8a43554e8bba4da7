"""Task state on disk (RocksDB), on the real broker: a worker killed and restarted under its name
replays only its changelog's tail, a new instance rebuilds from the whole changelog, and a standby
copy lets another worker take over replaying the tail only. Each time the payments' states are
all there: the next event of every payment finds its state (none lands in the DLQ). A changelog
deleted and created again under its name is not mistaken for the one the store was built from."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from router.config import Settings
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.kafka_clients import client_options, create_topics, delete_topics_with_prefix
from router.procs import RouterProcess, free_port
from router.topics import topic_name
from tests.support.kafka import consume, produce, start_worker

pytestmark = pytest.mark.integration
PAYMENTS = 100
REPLAYED = re.compile(r"corridor: stores \[[\d, ]*\] caught up, (\d+) changelog records replayed")


def replayed(worker: RouterProcess, at_least: int = 1, timeout: float = 30.0) -> list[int]:
    """The changelog records each catch-up of the corridor's stores replayed, once there are
    ``at_least`` of them in the worker's log."""
    deadline = time.monotonic() + timeout
    while True:
        found = [int(n) for n in REPLAYED.findall(worker.own_output())]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


async def send_payments(s: Settings) -> list[str]:
    uetrs = [str(uuid.uuid4()) for _ in range(PAYMENTS)]
    for u in uetrs:
        await produce(s, "cips.in", build_message(ex.cips_pacs008(uetr=u), "cips"), key=u.encode())
    await consume(s, "payments.status", until=lambda rs: {r.key for r in rs} >= {u.encode() for u in uetrs})
    return uetrs


async def recreate_topics(s: Settings) -> None:
    """Delete the test's topics and create them again under the same names (deletion is
    asynchronous: retry the creation until every topic is new)."""
    await delete_topics_with_prefix(s.kafka, (s.kafka.topic_prefix,))
    deadline = time.monotonic() + 60
    while True:
        try:
            made = await create_topics(s.kafka)
            if all(v == "created" for v in made.values()):
                return
        except Exception:  # a topic still being deleted refuses its creation
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"topics not created again: {made}")
        await asyncio.sleep(1.0)


async def every_state_is_there(s: Settings, uetrs: list[str]) -> None:
    """Hold every payment: a state that was lost would answer 'unknown payment' into the DLQ."""
    for u in uetrs:
        verdict = {"uetr": u, "outcome": "hold", "reason_code": "RR04", "reason": "test"}
        await produce(s, "screening.results", json.dumps(verdict).encode(), key=u.encode())
    held: set[str] = set()

    def all_held(rs: list) -> bool:  # type: ignore[type-arg]
        held.update(r.key.decode() for r in rs if json.loads(r.value).get("phase") == "held")
        return held >= set(uetrs)

    await consume(s, "payments.status", until=all_held, timeout=60)
    dlq = await consume(s, "router.dlq", until=lambda rs: False, timeout=2)
    assert dlq == [], [dict(r.headers or ()) for r in dlq]


def with_timeouts(s: Settings, seconds: float, **state: object) -> Settings:
    state = {"flush_interval_s": 0.0, **state}  # flush on every commit: a SIGKILL then loses no store write
    # A SIGKILL just after the last commit can still lose that transaction's store write, so a
    # restart replays up to one transaction's records: a transaction per fetched batch
    # (commit_interval_ms 0) keeps that a few records, as the bounds below expect.
    return s.model_copy(update={
        "kafka": s.kafka.model_copy(update={"session_timeout_s": seconds, "rebalance_timeout_s": seconds,
                                            "commit_interval_ms": 0}),
        "state": s.state.model_copy(update=state)})


async def test_a_restart_replays_the_tail_and_a_new_instance_the_whole_changelog(topics: Settings,
                                                                                  tmp_path: Path) -> None:
    s = with_timeouts(topics, 6.0)
    log = tmp_path / "w.log"
    worker = start_worker(s, log, "--stages", "corridor", "--instance", "corridor-0")
    try:
        uetrs = await send_payments(s)
        worker.kill()  # SIGKILL: the store's last write may lag the Kafka commit
        worker = start_worker(s, log, "--stages", "corridor", "--instance", "corridor-0")
        (tail,) = replayed(worker)
        await every_state_is_there(s, uetrs)
        worker.stop()
        worker = start_worker(s, tmp_path / "fresh.log", "--stages", "corridor", "--instance", "corridor-new")
        (whole,) = replayed(worker)
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()
    assert tail < PAYMENTS // 5, f"a restart replayed {tail} records: not the tail"
    assert whole >= 2 * PAYMENTS, f"a new instance replayed {whole}: it must rebuild from the whole changelog"


async def test_a_standby_copy_takes_over_replaying_the_tail(topics: Settings, tmp_path: Path) -> None:
    s = with_timeouts(topics, 6.0, standby_replicas=1)
    a = start_worker(s, tmp_path / "a.log", "--stages", "corridor", "--instance", "corridor-a")
    b = start_worker(s, tmp_path / "b.log", "--stages", "corridor", "--instance", "corridor-b",
                     "--web-port", str(free_port()))
    try:
        uetrs = await send_payments(s)
        a.kill()  # b takes a's partitions after the session timeout, from its warm copies
        await every_state_is_there(s, uetrs)
        counts = replayed(b, at_least=2)
        assert b.alive(), b.output()[-3000:]
    finally:
        a.stop()
        b.stop()
    assert len(counts) >= 2, f"b took partitions over once at least: {counts}"
    takeover = counts[-1]
    assert takeover < PAYMENTS // 5, f"the takeover replayed {takeover} records: the standby copy was not warm"


async def test_a_changelog_created_again_under_its_name_rebuilds_the_store(topics: Settings, tmp_path: Path) -> None:
    s = with_timeouts(topics, 6.0)
    log = tmp_path / "w.log"
    worker = start_worker(s, log, "--stages", "corridor", "--instance", "corridor-0")
    try:
        old = await send_payments(s)
        worker.stop()
        await recreate_topics(s)
        # Other records at the offsets the store resumes from: the new changelog is longer.
        producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
        await producer.start()
        try:
            for i in range(4 * PAYMENTS):
                await producer.send(topic_name("corridor.state", s.kafka.topic_prefix), b"{}", key=f"o{i}".encode())
            await producer.flush()
        finally:
            await producer.stop()
        worker = start_worker(s, log, "--stages", "corridor", "--instance", "corridor-0")
        (restored,) = replayed(worker)
        verdict = {"uetr": old[0], "outcome": "hold", "reason_code": "RR04", "reason": "test"}
        await produce(s, "screening.results", json.dumps(verdict).encode(), key=old[0].encode())
        dlq = await consume(s, "router.dlq", until=lambda rs: len(rs) >= 1)
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()
    assert "rebuilding the local store" in worker.own_output()
    assert restored == 4 * PAYMENTS, f"the rebuilt stores replayed {restored}: the whole new changelog"
    (dead,) = dlq
    assert b"unknown payment" in dict(dead.headers or ())["dlq.reason.text"], "the old state is gone with its changelog"
