"""A transaction that fails mid-way (outputs half sent) is aborted and redone exactly once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from aiokafka.errors import KafkaError

from router.config import Settings
from router.settlement import loadgen
from router.settlement.processor import Output, SettlementProcessor
from router.settlement.reader import check_ledger

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


class FlakyProcessor(SettlementProcessor):
    """Fails some transactions after half of their records were handed to the producer."""

    FAIL_AT = frozenset({3, 9, 17, 30, 45, 70})

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, instance="flaky")
        self.calls = 0
        self.failures = 0

    async def _send_all(self, producer, outputs: list[Output]) -> None:  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls in self.FAIL_AT:
            await super()._send_all(producer, outputs[: len(outputs) // 2])
            self.failures += 1
            raise KafkaError("injected: broker went away mid-transaction")
        await super()._send_all(producer, outputs)


async def test_failed_transactions_are_rewound_and_booked_once(topics: Settings) -> None:
    c = loadgen.corridor(participants=3, participant_cny=Decimal("200000.00"))
    s = topics.model_copy(update={"settlement": topics.settlement.model_copy(update={
        "opening_balances": c.opening, "liquidity_max_wait_s": 1.0})})
    reqs = loadgen.random_requests(c, 300, seed=5, duplicate_every=20)
    distinct = {r.settlement_id for r in reqs}
    proc = FlakyProcessor(s)
    stop = asyncio.Event()
    running = asyncio.create_task(proc.run(stop))
    try:
        await asyncio.wait_for(proc.ready.wait(), 30)
        async with loadgen.OutcomeCollector(s) as col:
            for i in range(0, len(reqs), 30):
                await loadgen.produce_requests(s, reqs[i:i + 30])
            assert await col.until(len(distinct), 90), f"{len(col.finals)}/{len(distinct)}"
            await col.until(len(distinct) + 1, 2.0)
        report = await check_ledger(s, wait_s=20)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert proc.failures >= 5
    assert report.ok, report.violations
    assert report.settlements == len(distinct) and report.duplicates_answered == len(reqs) - len(distinct)
    finals = [o.settlement_id for o in col.outcomes if o.final]
    assert sorted(finals) == sorted(distinct)  # exactly one final outcome each, despite the rewinds
