"""Task state in memory vs on disk: a worker's RSS and restore time as retained payments grow.

For each size N, the corridor's changelog (uuid-prefixed topics on the configured broker) is
filled with N delivered payments' states (each a real ``PaymentState``, built by the corridor's
own lifecycle, ~4.5 KB). Then a ``router worker --stages corridor`` starts on it, once per backend:

- ``memory``: the whole changelog is decoded into Python dicts;
- ``rocksdb``: a new instance rebuilds its stores from the changelog (cold), then restarts under
  the same name (warm: it replays only the changelog's tail past its stores' checkpoint).

Reported per N and backend: seconds from process start to ready (which waits for the restore),
the restore's own seconds as the worker logs them, and the worker's RSS once ready.

``--takeover``: two rocksdb workers share the stage, with and without standby copies; one is
SIGKILLed and the survivor's takeover is timed: from the kill to its tasks being ready (this
includes the group's session timeout, 6 s here) and the restore itself, with the changelog
records it replayed.

``--ledger``: the same question for the ledger shard's book, driven in-process
(``router.bench.ledger_state``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaProducer

from router.bench import ledger_state
from router.config import Settings, get_settings
from router.corridor import lifecycle
from router.corridor import state as state_codec
from router.corridor.ports import Verdict
from router.fx.quote import Quote
from router.iso20022.examples import cips_pacs008
from router.kafka_clients import client_options, create_topics, delete_topics_with_prefix
from router.pipeline.corridor_ports import RouterPorts
from router.procs import RouterProcess, free_port, spawn
from router.settlement.model import Posting, SettlementOutcome, SettlementRequest
from router.topics import topic_name

RESTORED = re.compile(r"corridor: tasks \[[\d, ]*\] ready \((\d+) keys restored in ([\d.]+) s\)")
REPLAYED = re.compile(r"corridor: stores \[[\d, ]*\] caught up, (\d+) changelog records replayed")
SESSION_S = 6.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--payments", default="10000,100000,1000000",
                   help="comma-separated sizes: retained payments in the corridor's changelog")
    p.add_argument("--backends", default="memory,rocksdb", help="comma-separated: memory, rocksdb")
    p.add_argument("--ready-timeout", type=float, default=1800.0)
    p.add_argument("--takeover", action="store_true", help="also time a takeover with and without standby copies")
    p.add_argument("--ledger", action="store_true",
                   help="the ledger shard's book instead, in-process without the broker (router.bench.ledger_state)")


def delivered_state() -> tuple[str, str]:
    """One delivered payment's stored state (JSON) and the UETR to substitute in it."""
    now = datetime.now(UTC)
    ports = RouterPorts.create(get_settings())
    ports.add_quote(Quote(pair="EUR/CNY", bid=Decimal("7.7000"), ask=Decimal("7.7400"), ts=now, provider="BKCHCNBJ"))
    payment = cips_pacs008(amount=Decimal("7740.00"), creditor_agent_bic="NRDBDEFF")
    step = lifecycle.on_payment(None, payment, "cips", ports, now)
    step = lifecycle.on_screening_result(step.state, Verdict("clear"), ports, now)
    request = SettlementRequest.model_validate_json(
        next(s for s in reversed(step.sends) if s.topic == "settlement.requests").value)
    postings = tuple(Posting(account=leg.debit_account, owner=leg.debit_account.split("/")[0], currency=leg.currency,
                             direction="DBIT", amount=leg.amount, balance_after=Decimal(0), reserved_after=Decimal(0))
                     for leg in request.legs)
    outcome = SettlementOutcome(settlement_id=request.settlement_id, uetr=request.uetr, sender=request.sender,
                                msg_id=request.msg_id, decision="COMMIT", status="ACSC", final=True,
                                postings=postings, at=now)
    step = lifecycle.on_settlement(step.state, outcome, ports, now)
    assert step.state is not None
    return state_codec.encode(step.state)[0].decode(), payment.uetr


async def fill(s: Settings, n: int) -> float:
    """Write ``n`` states to the corridor's changelog; returns seconds taken."""
    template, uetr = delivered_state()
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all", linger_ms=20, max_batch_size=1024 * 1024,
                                max_request_size=8 * 1024 * 1024)
    await producer.start()
    t0 = time.monotonic()
    try:
        topic = topic_name("corridor.state", s.kafka.topic_prefix)
        pending = []
        for _ in range(n):
            u = str(uuid.uuid4())
            pending.append(await producer.send(topic, template.replace(uetr, u).encode(), key=u.encode()))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - t0


def start(s: Settings, log: Path, timeout: float, instance: str = "bench-state-0",
          *extra: str) -> tuple[RouterProcess, float]:
    t0 = time.monotonic()
    w = spawn(s, log, "worker", "--stages", "corridor", "--instance", instance, *extra)
    w.wait_for("Ready", timeout)
    return w, time.monotonic() - t0


def takeover(s: Settings, workdir: Path, standby: int, timeout: float) -> dict[str, Any]:
    """Two workers; SIGKILL the first; time the second's takeover of its tasks."""
    t = s.model_copy(update={
        "kafka": s.kafka.model_copy(update={"session_timeout_s": SESSION_S, "rebalance_timeout_s": SESSION_S}),
        "state": s.state.model_copy(update={"backend": "rocksdb", "standby_replicas": standby,
                                            "dir": workdir / f"takeover-{standby}"})})
    a, _ = start(t, workdir / f"takeover-{standby}-a.log", timeout, "bench-a")
    b: RouterProcess | None = None
    try:
        b, _ = start(t, workdir / f"takeover-{standby}-b.log", timeout, "bench-b", "--web-port", str(free_port()))
        if standby:
            b.wait_for("standby copies", timeout)
        time.sleep(2.0)
        before = len(RESTORED.findall(b.own_output()))
        a.kill()
        t0 = time.monotonic()
        while len(RESTORED.findall(b.own_output())) <= before:
            if time.monotonic() - t0 > timeout or not b.alive():
                raise RuntimeError(f"no takeover within {timeout} s:\n{b.own_output()[-3000:]}")
            time.sleep(0.05)
        took = time.monotonic() - t0
        _, restore_s = RESTORED.findall(b.own_output())[-1]
        replayed = REPLAYED.findall(b.own_output())[-1]
        return {"kill_to_ready_s": round(took, 2), "restore_s": float(restore_s), "replayed": int(replayed),
                "session_timeout_s": SESSION_S}
    finally:
        a.stop()
        if b is not None:
            b.stop()


def measure(w: RouterProcess, ready_s: float) -> dict[str, Any]:
    time.sleep(2.0)  # let the restore's garbage go before reading RSS
    found = RESTORED.findall(w.own_output())
    return {"ready_s": round(ready_s, 2),
            "restore_s": round(sum(float(sec) for _, sec in found), 2),
            "rss_mb": round(psutil.Process(w.proc.pid).memory_info().rss / 2**20, 1)}


async def one_size(base: Settings, n: int, backends: list[str], timeout: float,
                   takeovers: bool = False) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-state-{n}-"))
    s = base.model_copy(update={"app_id": f"bench-state-{run}",
                                "kafka": base.kafka.model_copy(update={"topic_prefix": f"bst{run}."}),
                                "state": base.state.model_copy(update={"dir": workdir / "stores"})})
    await create_topics(s.kafka)
    out: dict[str, Any] = {"payments": n}
    try:
        out["fill_s"] = round(await fill(s, n), 1)
        for backend in backends:
            b = s.model_copy(update={"state": s.state.model_copy(update={"backend": backend})})
            w, ready = await asyncio.to_thread(start, b, workdir / f"{backend}.log", timeout)
            try:
                out[backend] = measure(w, ready)
            finally:
                w.stop()
            if backend == "rocksdb":
                w, ready = await asyncio.to_thread(start, b, workdir / f"{backend}.log", timeout)
                try:
                    out["rocksdb_restart"] = measure(w, ready)
                finally:
                    w.stop()
                out["rocksdb_disk_mb"] = round(sum(f.stat().st_size for f in (workdir / "stores").rglob("*")
                                                   if f.is_file()) / 2**20, 1)
        if takeovers:
            for standby in (0, 1):
                out[f"takeover_standby_{standby}"] = await asyncio.to_thread(takeover, s, workdir, standby, timeout)
    finally:
        await delete_topics_with_prefix(s.kafka, (s.kafka.topic_prefix, f"{s.app_id}-"))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(x) for x in args.payments.split(",") if x]
    backends = [x for x in args.backends.split(",") if x]
    bad = set(backends) - {"memory", "rocksdb"}
    if bad:
        raise SystemExit(f"router bench state: unknown backend(s) {sorted(bad)}; use memory, rocksdb")
    if args.ledger:
        return ledger_state.run(sizes, backends)
    base = get_settings()
    return {"sizes": [asyncio.run(one_size(base, n, backends, args.ready_timeout, args.takeover)) for n in sizes]}
