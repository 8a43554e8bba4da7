"""The demo removes the topics of stale earlier runs (a local broker slows down with thousands of
partitions) and leaves recent runs, which may still be going in another shell, alone."""

from __future__ import annotations

from connectors.demo_cli import STALE_AFTER_S, earlier_runs, new_run_id

NOW = 1_800_000_000.0


def test_stale_and_legacy_runs_are_found_recent_ones_kept() -> None:
    old, recent = new_run_id(NOW - STALE_AFTER_S - 1), new_run_id(NOW - 60)
    topics = [f"demo-{old}.cips.in", f"demo-{old}.router.dlq", f"demo-{old}-fx-quotes-changelog",
              f"demo-{recent}.cips.in", "demo-1a2b3c4d.corr.in", "payments.status", "demo-notarun.x"]
    assert earlier_runs(topics, "", NOW) == ("demo-1a2b3c4d.", f"demo-{old}-", f"demo-{old}.")


def test_the_base_prefix_is_respected() -> None:
    old = new_run_id(NOW - STALE_AFTER_S - 1)
    topics = [f"team.demo-{old}.cips.in", f"other.demo-{old}.cips.in", f"demo-{old}-fx-changelog"]
    assert earlier_runs(topics, "team.", NOW) == (f"demo-{old}-", f"team.demo-{old}.")


def test_run_ids_carry_their_start_time() -> None:
    run = new_run_id(NOW)
    assert len(run) == 12 and int(run[:8], 16) == int(NOW)
