"""PvP under SIGKILL: two settle-workers, thousands of settlements, repeated kills mid-flow.

Afterwards the ledger check (read from the broker) must find no violation — money conserved
per currency, no overdraft, one decision per settlement, both legs or neither booked, nothing
booked twice — and every payment must have exactly one final outcome.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from router.bench import settlement_load as loadgen
from router.config import Settings
from router.ledger_reader import check_ledger, fund
from router.procs import settings_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

SETTLEMENTS = 2400
KILLS = 6


def _settings(base: Settings) -> Settings:
    c = loadgen.corridor(participants=4, participant_cny=Decimal("1500000.00"))
    return base.model_copy(update={
        "kafka": base.kafka.model_copy(update={"session_timeout_s": 6.0, "rebalance_timeout_s": 6.0}),
        "settlement": base.settlement.model_copy(update={
            "opening_balances": c.opening, "liquidity_max_wait_s": 3.0, "pvp_deadline_s": 90.0,
            "max_batch": 500,
        }),
    })


async def test_sigkill_mid_flow_keeps_every_invariant(topics: Settings, tmp_path: Path) -> None:
    s = _settings(topics)
    c = loadgen.corridor(participants=4, participant_cny=Decimal("1500000.00"))
    requests = loadgen.random_requests(c, SETTLEMENTS, seed=7, duplicate_every=25)
    distinct = {r.settlement_id for r in requests}
    workers = [loadgen.start_worker(s, tmp_path / f"w{i}.log", f"w{i}") for i in range(2)]
    rng = random.Random(3)
    kills: list[int] = []  # finals seen at each kill: proves the kills landed mid-flow

    async def load() -> None:
        for n in range(0, len(requests), 100):
            await loadgen.produce_requests(s, requests[n:n + 100])
            if n == len(requests) // 2:
                # liquidity arriving mid-run: releases queued legs of one participant
                await fund(s, f"{c.participants[0]}/CNY", Decimal("250000.00"), "CNY", "fund-mid-run")
            await asyncio.sleep(1.6)  # paced so that every kill lands while payments flow

    try:
        async with loadgen.OutcomeCollector(s) as col:
            producing = asyncio.create_task(load())
            await col.until(len(distinct), timeout=2.0)
            while len(kills) < KILLS:
                i = rng.randrange(len(workers))
                kills.append(len(col.finals))
                workers[i].kill()  # SIGKILL: no clean-up, open transactions left behind
                if len(kills) == KILLS:
                    # the last victim stays dead: the survivor must take over its partitions (and
                    # its open transactions) once the group expels it
                    survivor = workers[1 - i]
                    break
                await col.until(len(distinct), timeout=rng.uniform(0.2, 1.0))
                # restart and wait until it owns partitions again, so the next kill hits a worker
                # that is processing, not one still joining the group
                workers[i] = await asyncio.to_thread(loadgen.start_worker, s, tmp_path / f"w{i}.log", f"w{i}")
                await col.until(len(distinct), timeout=rng.uniform(0.5, 2.0))
            await producing
            done = await col.until(len(distinct), timeout=240)
            assert done, f"{len(col.finals)} of {len(distinct)} settlements have an outcome"
            await col.until(len(distinct) + 1, timeout=3)  # any straggling (duplicate) outcome
            finals = Counter(o.settlement_id for o in col.outcomes if o.final)
        report = await check_ledger(s, wait_s=60)
    finally:
        for w in workers:
            w.stop()
    print(f"kills at finals={kills}; report={json.dumps(report.as_dict())[:600]}")
    assert len(kills) >= 5
    assert sum(k < len(distinct) for k in kills) >= 5, f"kills must land mid-flow: finals at kills {kills}"
    assert report.violation_count == 0, report.violations
    assert set(finals) == distinct
    assert all(n == 1 for n in finals.values()), [sid for sid, n in finals.items() if n != 1][:10]
    assert report.settlements == len(distinct)
    assert report.commits + report.aborts == len(distinct)
    assert report.commits > len(distinct) // 2  # the run settled real money, not just aborts
    assert report.duplicates_answered == len(requests) - len(distinct)
    restarts = sum(w.output().count(loadgen.READY) for w in workers)
    assert restarts >= 2 + KILLS - 1  # every restart took partitions over again
    assert "ready partitions=[0]" in survivor.output().split(loadgen.READY, 1)[1]  # the one ledger shard
    # the operator's view: the CLI agrees (topic prefix and settings via the environment)
    cli = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "router", "ledger", "check", "--json"],
                                  env=settings_env(s), capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
    summary = json.loads(cli.stdout)
    assert summary["ok"] is True and summary["settlements"] == len(distinct)
