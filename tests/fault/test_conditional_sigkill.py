"""Conditional (programmable) payments under SIGKILL: the settle-worker is killed while it reserves
them, while condition events and cancellations stream in, and as the holds of the rest expire.

Each conditional settlement must end exactly once, the way its fate says: executed (COMMIT from
its reservation), cancelled (ABORT with the cancellation's reason, holds given back) or expired
(ABORT TM01, holds given back). Afterwards the ledger check, read from the broker, replays every
hold and release: no violation, nothing still held, nothing reserved on any account. Every
condition event is sent twice; the second finds nothing held and is kept in the DLQ exactly once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from router.bench import settlement_load as loadgen
from router.config import Settings
from router.kafka_clients import client_options
from router.ledger_reader import check_ledger
from router.outcome import CONDITION_EXPIRED
from router.settlement.model import Execute, Release, SettlementRequest
from router.topics import topic_name
from tests.support.kafka import consume

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

N = 600
CANCEL = "DUPL"


def _settings(base: Settings, c: loadgen.Corridor) -> Settings:
    return base.model_copy(update={
        "kafka": base.kafka.model_copy(update={"session_timeout_s": 6.0, "rebalance_timeout_s": 6.0}),
        "settlement": base.settlement.model_copy(update={
            "opening_balances": c.opening, "liquidity_max_wait_s": 3.0, "pvp_deadline_s": 300.0, "max_batch": 200,
        }),
    })


async def _send(s: Settings, commands: list[Execute | Release], pause: float = 0.15) -> None:
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all", enable_idempotence=True)
    await producer.start()
    topic = topic_name("settlement.requests", s.kafka.topic_prefix)
    try:
        for i, cmd in enumerate(commands):
            await producer.send(topic, cmd.model_dump_json().encode(), key=cmd.settlement_id.encode())
            if i % 25 == 24:
                await producer.flush()
                await asyncio.sleep(pause)  # a stream, so that a kill lands in the middle of it
        await producer.flush()
    finally:
        await producer.stop()


async def test_conditional_payments_survive_sigkill_and_end_exactly_once(topics: Settings, tmp_path: Path) -> None:
    # Enough everywhere (JPY legs are large numbers): every conditional payment can be reserved.
    c = loadgen.corridor(participants=4, participant_cny=Decimal("2000000.00"), fx_balance=Decimal("100000000.00"))
    s = _settings(topics, c)
    start = time.time()
    late, never = datetime.fromtimestamp(start + 60, UTC), datetime.fromtimestamp(start + 600, UTC)
    plain = loadgen.random_requests(c, N, seed=11)
    rng = random.Random(5)
    fate = {r.settlement_id: rng.choice(("execute", "execute", "cancel", "expire")) for r in plain}
    requests = [r.model_copy(update={"condition_id": f"cond-{i}",
                                     "hold_until": late if fate[r.settlement_id] == "expire" else never})
                for i, r in enumerate(plain)]
    by_sid: dict[str, SettlementRequest] = {r.settlement_id: r for r in requests}
    logs = iter(tmp_path / f"w{i}.log" for i in range(10))
    worker = loadgen.start_worker(s, next(logs), "w0")
    kills: list[tuple[str, int]] = []  # (phase, reservations or finals seen at the kill)

    def reserved(col: loadgen.OutcomeCollector) -> set[str]:
        return {o.settlement_id for o in col.outcomes if o.decision == "RESERVED"}

    async def kill_and_restart(phase: str, seen: int) -> None:
        nonlocal worker
        kills.append((phase, seen))
        worker.kill()  # SIGKILL: open transaction left behind, no clean-up
        await asyncio.sleep(0.3)
        worker = await asyncio.to_thread(loadgen.start_worker, s, next(logs), "w0")

    try:
        async with loadgen.OutcomeCollector(s) as col:
            # 1. Reservations, with a kill while they are being made.
            producing = asyncio.create_task(_paced(s, requests))
            while len(reserved(col)) < N // 3:
                await col.until(N, timeout=0.2)
            await kill_and_restart("reserving", len(reserved(col)))
            await producing
            deadline = time.monotonic() + 120
            while len(reserved(col)) < N and time.monotonic() < deadline:
                await col.until(N, timeout=0.5)
            assert len(reserved(col)) == N, f"{len(reserved(col))} of {N} reserved"
            assert not col.finals, "nothing ends before its condition, cancellation or expiry"

            # 2. Condition events (each twice) and cancellations stream in; a kill in the middle.
            events: list[Execute | Release] = []
            for sid, f in fate.items():
                r = by_sid[sid]
                assert r.condition_id is not None
                if f == "execute":
                    events.append(Execute(settlement_id=sid, uetr=r.uetr, condition_id=r.condition_id,
                                          event_id=f"ev-{sid}"))
                elif f == "cancel":
                    events.append(Release(settlement_id=sid, uetr=r.uetr, reason=CANCEL))
            events += [e for e in events if isinstance(e, Execute)]  # replays of every condition event
            sending = asyncio.create_task(_send(s, events))
            while len(col.finals) < len(events) // 4:
                await col.until(N, timeout=0.2)
            await kill_and_restart("executing", len(col.finals))
            await sending
            decided = sum(f != "expire" for f in fate.values())
            assert await col.until(decided, timeout=max(1.0, late.timestamp() - time.time() - 1)), \
                f"{len(col.finals)} of {decided} executed or cancelled before the expiries"

            # 3. The rest expire on the ledger's clock; a kill as they do.
            await asyncio.sleep(max(0.0, late.timestamp() - time.time()) + 0.1)
            await kill_and_restart("expiring", len(col.finals))
            assert await col.until(N, timeout=120), f"{len(col.finals)} of {N} ended"
            await col.until(N + 1, timeout=3)  # any straggling second outcome
        report = await check_ledger(s, wait_s=30)
    finally:
        worker.stop()

    print(f"kills {kills}; report {json.dumps(report.as_dict())[:600]}")
    finals = Counter(o.settlement_id for o in col.outcomes if o.final)
    assert set(finals) == set(fate) and all(n == 1 for n in finals.values()), \
        [sid for sid, n in finals.items() if n != 1][:10]
    want = {"execute": ("COMMIT", None), "cancel": ("ABORT", CANCEL), "expire": ("ABORT", CONDITION_EXPIRED)}
    wrong = [(sid, f, col.finals[sid].decision, col.finals[sid].reason) for sid, f in fate.items()
             if (col.finals[sid].decision, col.finals[sid].reason) != want[f]]
    assert not wrong, wrong[:10]
    assert report.violation_count == 0, report.violations
    assert (report.settlements, report.held, report.undecided) == (N, 0, 0)
    assert report.commits == sum(f == "execute" for f in fate.values())
    assert all(Decimal(t["reserved"]) == 0 for t in report.currencies.values()), report.currencies
    # Each replayed event was refused once, and only the replays were.
    executes = sum(f == "execute" for f in fate.values())
    dlq = await consume(s, "router.dlq", until=lambda rs: len(rs) >= executes, timeout=20)
    await asyncio.sleep(1.0)
    dlq = await consume(s, "router.dlq", until=lambda rs: len(rs) > executes, timeout=3)
    assert len(dlq) == executes and len({r.key for r in dlq}) == executes
    assert [p for p, _ in kills] == ["reserving", "executing", "expiring"]
    decided = sum(f != "expire" for f in fate.values())
    assert 0 < kills[0][1] < N and 0 < kills[1][1] < decided and kills[2][1] == decided


async def _paced(s: Settings, requests: list[SettlementRequest]) -> None:
    for n in range(0, len(requests), 50):
        await loadgen.produce_requests(s, requests[n:n + 50])
        await asyncio.sleep(0.4)
