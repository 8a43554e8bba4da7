"""The Singles Day run of ``router bench e2e``: its send schedule and how its report is read."""

from __future__ import annotations

import argparse

import pytest

from connectors.bench.e2e import surge_report, surge_segments
from connectors.loadgen import parse_segments, schedule

ARGS = argparse.Namespace(rate=10.0, before_seconds=2.0, surge_seconds=3.0, after_seconds=5.0)


def test_a_base_rate_a_ten_fold_step_and_the_base_again() -> None:
    segments = surge_segments(ARGS)
    assert segments == [(10.0, 2.0), (100.0, 3.0), (10.0, 5.0)]
    times = schedule(segments)
    assert len(times) == 20 + 300 + 50
    assert times == sorted(times) and times[20] == 2.0 and times[320] == 5.0
    assert sum(1 for t in times if 2.0 <= t < 5.0) == 300


def test_segments_are_parsed_or_refused_with_the_reason() -> None:
    assert parse_segments("30:30,300:60") == [(30.0, 30.0), (300.0, 60.0)]
    for bad in ("", "30", "x:1", "0:10", "10:-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_segments(bad)


def row(sent: float, done: float | None, pending: float | None = None) -> dict[str, object]:
    return {"sent": sent, "done": done, "queued": False, "pending": pending, "outcome": "ACSC"}


def test_the_report_says_when_the_surge_backlog_was_drained() -> None:
    start = 1000.0
    rows = [row(start + 0.5, start + 0.7)]
    rows += [row(start + 2 + i * 0.01, start + 4 + i * 0.02, pending=start + 2.5) for i in range(300)]  # lagging
    rows += [row(start + 6, start + 6.2)]
    r = surge_report(ARGS, rows, start)
    last_surge_answer = start + 4 + 299 * 0.02
    assert r["drained_after_surge_s"] == round(last_surge_answer - (start + 5), 1)
    assert r["backlog_peak"] >= 150 and r["unanswered"] == 0
    assert r["pdng_seen_during_surge"] == 300
    assert r["phases"]["surge"]["offered_per_s"] == 100.0


def test_an_unanswered_payment_means_the_backlog_never_drained() -> None:
    r = surge_report(ARGS, [row(1002.0, None)], 1000.0)
    assert r["drained_after_surge_s"] is None and r["unanswered"] == 1
