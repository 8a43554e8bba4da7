"""How `router bench e2e` names its processes in the CPU table, for both topologies."""

from __future__ import annotations

from pathlib import Path

from connectors.bench.e2e import role_of
from connectors.demo import Processes
from router.config import Settings


def test_split_runs_each_payment_stage_in_a_process_of_its_own() -> None:
    procs = Processes(Settings(), Path("/tmp"), 2, split=True)
    stages = {name: args[2] for name, args, _ in procs.specs if args[0] == "worker"}
    assert stages == {"corridor-0": "corridor", "screening-0": "screening",
                      "corridor-1": "corridor", "screening-1": "screening"}
    assert sorted({role_of(n) for n, _, _ in procs.specs}) == ["corridor", "screening", "settle-worker"]


def test_fused_runs_both_payment_stages_in_one_worker() -> None:
    procs = Processes(Settings(), Path("/tmp"), 1)
    assert [(n, args[2]) for n, args, _ in procs.specs if args[0] == "worker"] == [("worker-0", "screening,corridor")]
    assert sorted({role_of(n) for n, _, _ in procs.specs}) == ["settle-worker", "worker"]
