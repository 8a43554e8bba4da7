"""End to end on the real broker: a payment dead-lettered by a misconfigured deployment settles
exactly once when it is replayed from the DLQ after the fix, and a second replay changes nothing.

The cause is an intake size limit set below a normal pacs.008. The workers are restarted with
the limit fixed (same consumer groups, so the refused record is not read again by itself), the
payment is replayed with `router dlq replay`, and the corridor screens, prices, settles (PvP) and
delivers it. The ledger check and the delivered messages show one settlement, one delivery.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.demo import FX_PROVIDERS, demo_balances
from router.config import IngestSettings, KafkaSettings, Settings
from router.iso20022.model import Payment
from router.kafka_clients import create_topics, delete_topics_with_prefix
from router.ledger_reader import check_ledger
from router.procs import RouterProcess, settings_env, spawn
from tests.e2e.test_corridor_paths import DIRECTORY, THIN_BALANCES, _publish_quotes, journey, read, send, traffic
from tests.support.kafka import consume, free_port

pytestmark = pytest.mark.integration
STAGES = ("worker", "--stages", "screening,corridor")


@pytest.fixture
def fixed(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Settings]:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    s = Settings(
        app_id=f"dlq-{run}", kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"d{run}."),
        web={"port": free_port()},  # type: ignore[arg-type]
        fx=base.fx.model_copy(update={"max_wait_s": 3.0, "retry_interval_s": 0.5}),
        settlement=base.settlement.model_copy(update={
            "opening_balances": demo_balances(DIRECTORY, thin=THIN_BALANCES), "fx_providers": FX_PROVIDERS}),
    )
    asyncio.run(create_topics(s.kafka))
    asyncio.run(_publish_quotes(s))
    try:
        yield s
    finally:
        asyncio.run(delete_topics_with_prefix(s.kafka, (s.kafka.topic_prefix, f"{s.app_id}-")))


def _start(s: Settings, log: Path) -> RouterProcess:
    w = spawn(s, log, *STAGES)
    try:
        w.wait_for("Ready", 90)
    except Exception:
        w.stop()
        raise
    return w


def _replay(s: Settings, uetr: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", "dlq", "replay", "--key", uetr, "--json"],
                          env=settings_env(s), capture_output=True, text=True, timeout=120)


async def test_a_dead_lettered_payment_settles_once_after_replay(fixed: Settings, tmp_path: Path) -> None:
    s = fixed
    broken = s.model_copy(update={"ingest": IngestSettings(max_message_bytes=1024)})
    p, _ = traffic(11).payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"),
                               amount=Decimal("4321.00"))
    settle = spawn(s, tmp_path / "settle.log", "settle-worker", "--instance", "dlq-e2e")
    try:
        worker = _start(broken, tmp_path / "broken.log")
        try:
            await send(s, "cips", p, p.uetr)
            dead = await consume(s, "router.dlq", until=lambda rs: any(r.key == p.uetr.encode() for r in rs))
            assert [r.key for r in dead] == [p.uetr.encode()], "the payment was dead-lettered"
            refused = await read(s, "cips.out", p.uetr, lambda xs: bool(xs))
            assert refused and not any(isinstance(x, Payment) for x in refused), "the sender was told at the time"
        finally:
            worker.stop()

        worker = _start(s, tmp_path / "fixed.log")  # the fix: the default size limit
        try:
            first = _replay(s, p.uetr)
            assert first.returncode == 0, first.stdout + first.stderr
            assert len(json.loads(first.stdout)["replayed"]) == 1
            snap = await journey(s, p.uetr, "settled", timeout=60)
            assert "settled" in [h["stage"] for h in snap["hops"]]

            second = _replay(s, p.uetr)
            assert second.returncode == 1 and json.loads(second.stdout)["replayed"] == []

            delivered = await read(s, "corr.out", p.uetr, lambda xs: False, timeout=8)
            assert worker.alive() and settle.alive(), worker.output()[-3000:] + settle.output()[-3000:]
        finally:
            worker.stop()
    finally:
        settle.stop()

    payments = [x for x in delivered if isinstance(x, Payment)]
    assert len(payments) == 1 and payments[0].instructed_amount == Decimal("4321.00")
    report = await check_ledger(s, wait_s=10)
    assert report.ok, report.violations
    assert (report.settlements, report.commits, report.aborts) == (1, 1, 0), report.as_dict()
