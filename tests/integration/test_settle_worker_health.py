"""`router settle-worker --web-port`: readiness answers 503 until the partitions are restored,
then 200; /metrics shows the stage's partitions and transactions (the Kubernetes probes and
Prometheus read these)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from router.config import Settings
from router.procs import spawn
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration


async def test_settle_worker_is_ready_only_once_restored(topics: Settings, tmp_path: Path) -> None:
    port = free_port()
    w = spawn(topics, tmp_path / "settle.log", "settle-worker", "--instance", "health-0", "--web-port", str(port))
    seen: list[tuple[int, bool]] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (seen and seen[-1][0] == 200):
                assert w.alive(), w.output()[-3000:]
                try:
                    r = await client.get("/healthz")
                    seen.append((r.status_code, r.json()["ready"]))
                    body = r.json()
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            assert seen and seen[-1] == (200, True), (seen[-5:], w.output()[-3000:])
            assert "settlement worker ready" in w.output()
            assert body["settlement"] == {"joined": True, "partitions": [0], "restoring": []}
            # Every 503 came before the first 200, and said not ready.
            first_ok = seen.index((200, True))
            assert all(s == (503, False) for s in seen[:first_ok])
            assert (await client.get("/livez")).status_code == 200
            await asyncio.sleep(1.0)  # a few idle ticks commit transactions
            text = (await client.get("/metrics")).text
    finally:
        w.stop()
    families = text_string_to_metric_families(text)
    samples = {(s.name, s.labels.get("stage")): s.value for f in families for s in f.samples}
    assert samples[("router_stage_tasks", "settlement")] == 1  # the one ledger shard
    assert ("router_stage_transactions_total", "settlement") in samples
