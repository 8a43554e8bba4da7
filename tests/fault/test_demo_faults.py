"""Faults in the running corridor, as CI runs them: hostile traffic mixed with good payments, and a
broker SIGKILLed / frozen under a steady demo. The full campaigns (10,000 hostile messages, longer
runs) are behind FULL_FAULT_CAMPAIGN=1; BENCHMARKS.md ("Reliability") has their figures."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_demo_run import run_demo
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration
FULL = os.environ.get("FULL_FAULT_CAMPAIGN") == "1"
REPO = Path(__file__).resolve().parents[2]


def test_hostile_traffic_is_refused_and_kept_while_good_payments_flow(kafka_bootstrap: str, tmp_path: Path) -> None:
    hostile = 10_000 if FULL else 500
    payments = 2000 if FULL else 400
    summary = run_demo(kafka_bootstrap, tmp_path, "--payments", str(payments), "--hostile", str(hostile),
                       "--rate", "40")
    h = summary["hostile"]
    print(h)
    assert h["sent"] >= hostile * 0.9
    assert h["missing"] == 0 and h["duplicated_in_dlq"] == 0, h  # each bad input in the DLQ exactly once
    assert h["original_bytes_kept"] == h["sent"]
    assert h["dlq_records"] == h["sent"]
    assert set(h["by_kind"]) >= {"xxe", "billion_laughs", "oversize", "truncated", "wrong_encoding",
                                 "wrong_namespace", "negative_amount", "too_many_decimals", "absurd_amount",
                                 "unknown_currency", "unknown_bic", "pacs002_unknown_payment", "camt056_storm",
                                 "empty_record", "null_key", "reused_uetr", "duplicate_msgid"}
    # good payments unaffected: every one accounted for (run_demo), nearly all settled, no crash
    assert summary["settled"] > payments * 0.8 and summary["crashes"] == []


def _java_broker_possible() -> str | None:
    for tool in ("java", "mvn", "openssl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def test_broker_sigkill_and_sigstop_under_a_steady_demo(tmp_path: Path) -> None:
    """Its own broker (never the shared one): two SIGKILL + restarts and a SIGSTOP past the session
    timeout; afterwards one outcome per payment, a clean ledger, nothing booked twice."""
    why = _java_broker_possible()
    if why:
        pytest.skip(f"broker faults need a local broker of their own: {why}")
    port = free_port()
    env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_HOME_DIR": str(tmp_path / "broker"),
           "KAFKA_CONTROLLER_PORT": str(free_port())}
    script = REPO / "deploy" / "local" / "kafka"
    subprocess.run([str(script), "start"], env=env, check=True, timeout=300)
    try:
        payments = 3000 if FULL else 900
        summary = run_demo(f"127.0.0.1:{port}", tmp_path, "--payments", str(payments), "--rate", "20",
                           "--broker-chaos", "5" if FULL else "3", extra_env=env, allow_crashes=True)
    finally:
        subprocess.run([str(script), "stop"], env=env, timeout=300)
    faults = summary["broker_faults"]
    print(faults, summary["longest_stall_s"], summary["crashes"])
    assert [f["fault"] for f in faults].count("SIGKILL+restart") >= 2
    assert "SIGSTOP/SIGCONT" in [f["fault"] for f in faults]
    assert all(f["recovered_after_s"] is not None for f in faults), faults
    assert summary["ledger_check"]["ok"]
    assert summary["ledger_check"]["commits"] + summary["ledger_check"]["aborts"] == summary["ledger_check"][
        "settlements"]
