"""PvP settlement: settlements/s and latency end to end through settle-worker processes.

Creates uuid-prefixed topics on the configured broker, starts ``--workers`` settle-worker
child processes, sends requests (a paced phase for latency, then a burst for throughput),
waits until every settlement has its final outcome, verifies the ledger, and deletes the topics.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
from aiokafka.admin import AIOKafkaAdminClient

from router.bench import settlement_load as loadgen
from router.config import Settings, get_settings
from router.kafka_clients import client_options, create_topics
from router.ledger_reader import check_ledger
from router.procs import RouterProcess
from router.topics import BY_NAME, TOPICS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=int, default=5000, help="settlements in the burst phase")
    p.add_argument("--workers", type=int, default=1, help="settle-worker processes")
    p.add_argument("--rate", type=float, default=100.0, help="requests/s in the paced (latency) phase")
    p.add_argument("--paced-seconds", type=float, default=5.0)
    p.add_argument("--keep-topics", action="store_true")


def _bench_settings(base: Settings) -> Settings:
    run = uuid.uuid4().hex[:8]
    c = loadgen.corridor(participants=8, participant_cny=Decimal("1000000000.00"),
                         fx_balance=Decimal("1000000000.00"))
    return base.model_copy(update={
        "app_id": f"bench-settle-{run}",
        "kafka": base.kafka.model_copy(update={"topic_prefix": f"bench{run}."}),
        "settlement": base.settlement.model_copy(update={"opening_balances": c.opening}),
    })


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    s = _bench_settings(get_settings())
    c = loadgen.corridor(participants=8)
    await create_topics(s.kafka)
    logdir = Path(tempfile.mkdtemp(prefix="bench-settle-"))
    # the workers' stores go with their logs
    s = s.model_copy(update={"state": s.state.model_copy(update={"dir": logdir / "state"})})
    workers = [await asyncio.to_thread(loadgen.start_worker, s, logdir / f"w{i}.log", f"b{i}")
               for i in range(args.workers)]
    result: dict[str, Any] = {"workers": args.workers, "partitions": BY_NAME["settlement.requests"].partitions}
    try:
        async with loadgen.OutcomeCollector(s) as col:
            # paced phase: latency at a sustainable rate
            n_paced = int(args.rate * args.paced_seconds)
            paced = loadgen.random_requests(c, n_paced, seed=11)
            sent_at: dict[str, float] = {}
            step = 1.0 / args.rate
            t0 = time.time()
            for i in range(0, n_paced, 10):
                chunk = paced[i:i + 10]
                await loadgen.produce_requests(s, chunk)
                now = time.time()
                sent_at.update({r.settlement_id: now for r in chunk})
                await asyncio.sleep(max(0.0, t0 + (i + 10) * step - time.time()))
            assert await col.until(n_paced, 120), f"paced: {len(col.finals)}/{n_paced}"
            lat = []
            for o, ts in zip(col.outcomes, col.timestamps, strict=True):
                if o.final and o.settlement_id in sent_at:
                    lat.append(ts / 1000 - sent_at[o.settlement_id])
            result["paced"] = {"rate_per_s": args.rate, "settlements": n_paced,
                               "latency_ms_p50": round(_pct(lat, 0.5) * 1000, 1),
                               "latency_ms_p95": round(_pct(lat, 0.95) * 1000, 1),
                               "latency_ms_p99": round(_pct(lat, 0.99) * 1000, 1)}
            # burst phase: throughput
            burst = loadgen.random_requests(c, args.count, seed=12)
            cpu0 = _cpu_s(workers)
            start = time.time()
            await loadgen.produce_requests(s, burst)
            produced = time.time() - start
            assert await col.until(n_paced + args.count, 600), f"burst: {len(col.finals)}"
            elapsed = max(ts / 1000 for ts in col.timestamps) - start
            cpu = _cpu_s(workers) - cpu0
            result["burst"] = {"settlements": args.count, "produce_s": round(produced, 2),
                               "elapsed_s": round(elapsed, 2),
                               "settlements_per_s": round(args.count / elapsed, 1),
                               # the workers' CPU over the burst (up to the collector's last look)
                               "cpu_ms_per_settlement": round(cpu * 1000 / args.count, 3),
                               "commits": sum(1 for o in col.finals.values() if o.decision == "COMMIT")}
        t = time.time()
        report = await check_ledger(s, wait_s=30)
        result["ledger_check"] = {"ok": report.ok, "settlements": report.settlements,
                                  "violations": report.violation_count, "seconds": round(time.time() - t, 2)}
        result["latency_mean_ms"] = round(statistics.mean(lat) * 1000, 1) if lat else None
    finally:
        for w in workers:
            w.stop()
        if not args.keep_topics:
            await _delete_topics(s)
    return result


def _cpu_s(workers: list[RouterProcess]) -> float:
    """CPU seconds (user + system) the settle-workers have used so far."""
    total = 0.0
    for w in workers:
        t = psutil.Process(w.proc.pid).cpu_times()
        total += t.user + t.system
    return total


async def _delete_topics(s: Settings) -> None:
    admin = AIOKafkaAdminClient(**client_options(s.kafka))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        mine = [f"{s.kafka.topic_prefix}{t.name}" for t in TOPICS if f"{s.kafka.topic_prefix}{t.name}" in existing]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(_run(args))
