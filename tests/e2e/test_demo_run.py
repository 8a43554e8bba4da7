"""The demo as CI runs it: at least 1,000 payments through real router processes, every payment
counted in exactly one outcome, and a clean ledger check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration
PAYMENTS = int(os.environ.get("DEMO_TEST_PAYMENTS", "1000"))


def run_demo(kafka_bootstrap: str, tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None,
             allow_crashes: bool = False) -> dict[str, Any]:
    env = {k: v for k, v in (extra_env or os.environ).items() if not k.startswith("ROUTER_")}
    env["ROUTER_KAFKA__BOOTSTRAP_SERVERS"] = kafka_bootstrap
    env["ROUTER_DATA_DIR"] = str(tmp_path / "data")
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


def test_demo_survives_sigkills_of_router_processes(kafka_bootstrap: str, tmp_path: Path) -> None:
    """``--chaos``: router and settlement processes SIGKILLed mid-run and restarted; still every
    payment has exactly one outcome and the ledger is clean."""
    summary = run_demo(kafka_bootstrap, tmp_path, "--payments", "600", "--chaos", "3", "--rate", "30")
    assert len(summary["chaos_kills"]) == 3
    assert summary["settled"] > 600 * 0.8
