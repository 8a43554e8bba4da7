"""The demo's payments against the real default lists: how many are held, and on which entries.

``router bench population [--payments N] [--seed S]`` screens N payments as the CIPS simulator
draws them (``CipsTraffic.payment``, no deliberately sanctioned names) with ``screen_payment``
against the shipped OFAC SDN and UN lists (not the fictional demo list), and reports the outcome
shares and the list entries behind the holds: a generator that draws list-like names shows up as
the same few entries over and over.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime

from connectors.cips_sim import CipsTraffic
from router.config import Settings
from router.corridor.screening_view import screening_request
from router.iso20022.directory import load_directory
from router.screening.decision import screen_payment
from router.screening.loaders import load_list
from router.screening.screener import Screener
from router.screening.settings import DEFAULT_LISTS, ScreeningSettings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--payments", type=int, default=3000)
    p.add_argument("--seed", type=int, default=20261202)


def run(args: argparse.Namespace) -> dict[str, object]:
    screener = Screener([load_list(p) for p in DEFAULT_LISTS], ScreeningSettings())
    directory = load_directory()
    traffic = CipsTraffic(directory, Settings(), args.seed)
    outcomes: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    now = datetime.now(UTC)
    for _ in range(args.payments):
        p, _tier = traffic.payment()
        d = screen_payment(screening_request(p, directory), screener, (), now)
        outcomes[d.outcome] += 1
        for m in d.matches:
            if m.field in ("name", "alias"):
                entries[f"{m.screened} -> {m.list} {m.entry} {m.matched!r} ({m.score:.2f})"] += 1
    n = max(1, args.payments)
    return {"lists": [v.label for v in screener.versions], "payments": args.payments,
            "share": {k: round(v / n, 4) for k, v in sorted(outcomes.items())},
            "name_matches": dict(entries.most_common(20))}
