"""``router bench corridor``: the corridor stage driven in-process must take every payment of the
demo's mix the whole way (taken in, screened clear, settled and delivered) and count its CPU."""

from __future__ import annotations

import argparse

from connectors.bench import corridor


def test_every_payment_is_taken_in_screened_settled_and_delivered() -> None:
    p = argparse.ArgumentParser()
    corridor.add_arguments(p)
    result = corridor.run(p.parse_args(["--payments", "40", "--repeat", "1", "--batch", "7"]))
    sent = result["records_per_payment"]
    # one screening request and one settlement request per payment; a status snapshot per event
    assert sent["screening.requests"] == 1.0 and sent["settlement.requests"] == 1.0
    assert sent["payments.status"] == 3.0
    # delivered pacs.008/009 + ACSC pacs.002 + a camt.054 per posting (two legs: four postings)
    assert sent.get("cips.out", 0) + sent.get("corr.out", 0) == 6.0
    assert result["cpu_ms_per_payment"] > 0
    assert set(result["cpu_ms_per_payment_by_step"]) >= {"intake", "screening.results", "settlement.outcomes"}
