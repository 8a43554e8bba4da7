"""A transaction that fails mid-way (outputs half sent) is aborted and redone exactly once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from router.bench import settlement_load as loadgen
from router.config import Settings
from router.ledger_reader import check_ledger
from router.pipeline.settlement_stage import settlement_processor
from router.streams.processor import Out

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

FAIL_AT = frozenset({2, 4, 6, 9, 12, 16})  # transactions that fail after half their records were sent
FAIL_AT_GATHERED = frozenset({2, 4, 6, 8, 10})  # fewer, larger transactions with a commit interval


# 0: a transaction per fetched batch; 300: several batches' work gathered into each transaction
# (kafka.commit_interval_ms), so a failure rewinds work from more than one batch.
@pytest.mark.parametrize("interval_ms", [0, 300])
async def test_failed_transactions_are_rewound_and_booked_once(topics: Settings, monkeypatch: pytest.MonkeyPatch,
                                                               interval_ms: int) -> None:
    c = loadgen.corridor(participants=3, participant_cny=Decimal("200000.00"))
    s = topics.model_copy(update={
        "settlement": topics.settlement.model_copy(update={"opening_balances": c.opening, "liquidity_max_wait_s": 1.0}),
        "kafka": topics.kafka.model_copy(update={"commit_interval_ms": interval_ms})})
    reqs = loadgen.random_requests(c, 300, seed=5, duplicate_every=20)
    distinct = {r.settlement_id for r in reqs}
    ready = asyncio.Event()
    proc = settlement_processor(s, on_ready=lambda parts: ready.set())
    send_all = proc._send_all
    calls: list[int] = []
    failures: list[int] = []

    async def flaky_send_all(producer: AIOKafkaProducer, outputs: list[Out]) -> list[RecordMetadata]:
        calls.append(len(outputs))
        if len(calls) in (FAIL_AT_GATHERED if interval_ms else FAIL_AT):
            await send_all(producer, outputs[: len(outputs) // 2])
            failures.append(len(calls))
            raise KafkaError("injected: broker went away mid-transaction")
        return await send_all(producer, outputs)  # the processor reads the changelog's offsets from it

    monkeypatch.setattr(proc, "_send_all", flaky_send_all)
    stop = asyncio.Event()
    running = asyncio.create_task(proc.run(stop))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        async with loadgen.OutcomeCollector(s) as col:
            for i in range(0, len(reqs), 10):  # small, spaced sends: many transactions to fail
                await loadgen.produce_requests(s, reqs[i:i + 10])
                await asyncio.sleep(0.15 if interval_ms else 0.05)
            assert await col.until(len(distinct), 90), f"{len(col.finals)}/{len(distinct)}"
            await col.until(len(distinct) + 1, 2.0)
        report = await check_ledger(s, wait_s=20)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert len(failures) >= (4 if interval_ms else 5) and proc.stats["rewinds"] >= len(failures)
    assert report.ok, report.violations
    assert report.settlements == len(distinct) and report.duplicates_answered == len(reqs) - len(distinct)
    finals = [o.settlement_id for o in col.outcomes if o.final]
    assert sorted(finals) == sorted(distinct)  # exactly one final outcome each, despite the rewinds
    per_transaction = proc.stats["records"] / proc.stats["transactions"]
    print(f"interval {interval_ms} ms: {proc.stats['transactions']} transactions, {per_transaction:.1f} records each")
    if interval_ms:
        # 30 sends 150 ms apart: a 300 ms interval gathers two or more into a transaction.
        assert per_transaction > 15, proc.stats  # more than the 10 requests of one send
