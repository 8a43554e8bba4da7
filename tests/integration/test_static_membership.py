"""Static group membership: a killed worker restarted under the same ``--instance`` name takes
its partitions straight back, instead of waiting out the session timeout for a rebalance."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from router.config import Settings
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from tests.support.kafka import consume, produce, start_worker

pytestmark = pytest.mark.integration
SESSION_S = 30.0  # what a dynamic member's partitions would wait after a SIGKILL


async def test_a_restarted_instance_takes_its_partitions_straight_back(topics: Settings, tmp_path: Path) -> None:
    s = topics.model_copy(update={"kafka": topics.kafka.model_copy(
        update={"session_timeout_s": SESSION_S, "rebalance_timeout_s": SESSION_S})})
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    worker = start_worker(s, tmp_path / "w.log", "--stages", "corridor", "--instance", "corridor-0")
    try:
        await produce(s, "cips.in", build_message(ex.cips_pacs008(uetr=first), "cips"), key=b"1")
        await consume(s, "payments.status", until=lambda rs: any(r.key == first.encode() for r in rs))
        worker.kill()
        restarted_at = time.monotonic()
        worker = start_worker(s, tmp_path / "w.log", "--stages", "corridor", "--instance", "corridor-0")
        await produce(s, "cips.in", build_message(ex.cips_pacs008(uetr=second), "cips"), key=b"2")
        await consume(s, "payments.status", until=lambda rs: any(r.key == second.encode() for r in rs),
                      timeout=2 * SESSION_S)
        took = time.monotonic() - restarted_at
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()
    assert took < SESSION_S / 2, f"restart to first record took {took:.1f} s: the partitions waited for a rebalance"
