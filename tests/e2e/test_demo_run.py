"""The demo as CI runs it: at least 1,000 payments through real router processes, every payment
counted in exactly one outcome, and a clean ledger check."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from router.config import KafkaSettings
from router.kafka_clients import delete_topics_with_prefix

pytestmark = pytest.mark.integration
PAYMENTS = int(os.environ.get("DEMO_TEST_PAYMENTS", "1000"))


def run_demo(kafka_bootstrap: str, tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None,
             allow_crashes: bool = False) -> dict[str, Any]:
    env = {k: v for k, v in (extra_env or os.environ).items() if not k.startswith("ROUTER_")}
    env["ROUTER_KAFKA__BOOTSTRAP_SERVERS"] = kafka_bootstrap
    proc = subprocess.run(
        [sys.executable, "-m", "router", "demo", "--json", "--report-dir", str(tmp_path), "--timeout", "300", *args],
        env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    counted = (summary["settled"] + sum(summary["rejected"].values()) + summary["held"] + summary["returned"]
               + summary["cancelled"])
    assert counted == summary["payments"] and summary["in_flight"] == 0, summary
    assert summary["ledger_check"]["ok"] and summary["ledger_check"]["violations"] == 0, summary
    assert allow_crashes or summary["crashes"] == [], summary
    return summary


def test_demo_of_1000_payments_is_fully_accounted_with_a_clean_ledger(kafka_bootstrap: str, tmp_path: Path) -> None:
    summary = run_demo(kafka_bootstrap, tmp_path, "--payments", str(PAYMENTS))
    assert summary["payments"] == PAYMENTS
    assert summary["settled"] > PAYMENTS * 0.8
    assert summary["latency_ms"]["samples"] > 0 and summary["throughput_per_s"] > 0
    assert Path(summary["report"]).stat().st_size > 10_000  # the PNG plot was written
    # The thin, two-way accounts queue in both directions and the LSM offsets some of it; the
    # summary counts its sets per pass and the payments the queue timed out (AM04).
    liq = summary["liquidity"]
    assert liq["lsm"] and liq["lsm_sets"] > 0 and liq["lsm_settlements"] >= 2 * liq["lsm_sets"], liq
    assert sum(k["sets"] for k in liq["lsm_by_kind"].values()) == liq["lsm_sets"], liq
    assert liq["am04"] == summary["rejected"].get("AM04", 0)

    # The ledger is its own evidence: a standalone check given nothing but the broker and the run's
    # topic prefix (no opening balances, no settings) reaches the demo's verdict.
    alone = standalone_check(kafka_bootstrap, summary["topic_prefix"])
    assert alone.returncode == 0, alone.stdout[-3000:] + alone.stderr[-3000:]
    verdict = json.loads(alone.stdout)
    ran = summary["ledger_check"]
    assert (verdict["ok"], verdict["settlements"], verdict["commits"], verdict["aborts"]) == (
        ran["ok"], ran["settlements"], ran["commits"], ran["aborts"])

    # One posting changed on a copy of the run's ledger topics: the check fails and names the account.
    copy = f"{summary['topic_prefix'].rstrip('.')}-forged."
    account = asyncio.run(copy_ledger_forging_one_posting(kafka_bootstrap, summary["topic_prefix"], copy))
    try:
        forged = standalone_check(kafka_bootstrap, copy)
    finally:
        asyncio.run(delete_topics_with_prefix(KafkaSettings(bootstrap_servers=kafka_bootstrap), (copy,)))
    assert forged.returncode == 1, forged.stdout[-3000:]
    assert any(v.startswith(account) for v in json.loads(forged.stdout)["violations"]), forged.stdout[-3000:]


def standalone_check(kafka_bootstrap: str, prefix: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
    env |= {"ROUTER_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap, "ROUTER_KAFKA__TOPIC_PREFIX": prefix}
    return subprocess.run([sys.executable, "-m", "router", "ledger", "check", "--json"], env=env,
                          capture_output=True, text=True, timeout=300)


async def copy_ledger_forging_one_posting(kafka_bootstrap: str, src: str, dst: str) -> str:
    """Copy the audited ledger topics from prefix ``src`` to ``dst`` (same partitions, same order),
    raising the amount (and the balance it claims) of one credit posting of one BOOKED record;
    return that posting's account."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition

    from router.config import KafkaSettings
    from router.kafka_clients import create_topics
    from router.ledger_reader import AUDITED, partitions
    from router.settlement.model import JOURNAL, Booked

    await create_topics(KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=dst))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    forged_account = ""
    try:
        for logical in AUDITED:
            consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None,
                                        auto_offset_reset="earliest", enable_auto_commit=False,
                                        isolation_level="read_committed")
            await consumer.start()
            try:
                known = await partitions(consumer, [src + logical])
                parts = [TopicPartition(src + logical, p) for p in sorted(known[src + logical])]
                consumer.assign(parts)
                await consumer.seek_to_beginning(*parts)
                ends = await consumer.end_offsets(parts)
                while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                    for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                        for r in records:
                            value = r.value
                            if logical == "settlement.events" and not forged_account and value is not None:
                                j = JOURNAL.validate_json(value)
                                if isinstance(j, Booked) and j.decision == "COMMIT":
                                    p = j.postings[-1]
                                    bumped = p.model_copy(update={"amount": p.amount + 1,
                                                                  "balance_after": p.balance_after + 1})
                                    j = j.model_copy(update={"postings": (*j.postings[:-1], bumped)})
                                    value = j.model_dump_json().encode()
                                    forged_account = p.account
                            await producer.send(dst + logical, value, key=r.key, partition=tp.partition,
                                                headers=list(r.headers or ()))
            finally:
                await consumer.stop()
        await producer.flush()
    finally:
        await producer.stop()
    assert forged_account, "no committed settlement to forge"
    return forged_account
