"""``router bench corridor``: the corridor stage driven in-process must take every payment of the
demo's mix the whole way (taken in, screened clear, settled, delivered, its postings notified) and
count its CPU."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from connectors.bench import corridor


def bench(*argv: str) -> dict[str, Any]:
    p = argparse.ArgumentParser()
    corridor.add_arguments(p)
    return corridor.run(p.parse_args(["--payments", "40", "--repeat", "1", "--batch", "7", *argv]))


def _per_payment(sent: dict[str, float], kind: str) -> float:
    return sum(v for k, v in sent.items() if k.endswith(" " + kind))


def test_every_payment_is_taken_in_screened_settled_delivered_and_notified() -> None:
    result = bench("--notification-interval", "0")
    sent = result["records_per_payment"]
    # one screening request and one settlement request per payment; a status snapshot per event
    assert sent["screening.requests"] == 1.0 and sent["settlement.requests"] == 1.0
    assert sent["payments.status"] == 3.0
    # delivered (pacs.008 or pacs.009) and answered ACSC
    assert _per_payment(sent, "pacs.008") + _per_payment(sent, "pacs.009") == pytest.approx(1.0, abs=0.011)
    assert _per_payment(sent, "pacs.002") == pytest.approx(1.0, abs=0.011)
    # every posting (two legs: four) is an entry of some camt.054, grouped per account
    assert sent["camt.054 entries"] == 4.0
    assert 0 < _per_payment(sent, "camt.054") < 4.0
    assert result["cpu_ms_per_payment"] > 0
    assert set(result["cpu_ms_per_payment_by_step"]) >= {"intake", "screening.results", "settlement.outcomes"}


def test_a_longer_notification_interval_sends_fewer_larger_notifications() -> None:
    every_tick = bench("--notification-interval", "0")["records_per_payment"]
    per_second = bench("--notification-interval", "1", "--rate", "100")["records_per_payment"]
    assert per_second["camt.054 entries"] == every_tick["camt.054 entries"] == 4.0
    assert _per_payment(per_second, "camt.054") < _per_payment(every_tick, "camt.054")
