"""``router track UETR``: where is this payment? Its journey from the tracker topic."""

from __future__ import annotations

import argparse
import asyncio
import json

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("track", help="show a payment's journey (payments.status)")
    p.add_argument("uetr")
    p.add_argument("--json", action="store_true", help="print the journey as JSON")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.journey_reader import latest_journey

    snap = asyncio.run(latest_journey(get_settings(), args.uetr))
    if snap is None:
        raise CliError(f"no payment with UETR {args.uetr} on the tracker topic", exit_code=1)
    if args.json:
        print(json.dumps(snap, indent=2, ensure_ascii=False))
        return 0
    print(f"UETR {snap['uetr']}  {snap['direction']}  {snap['amount']} {snap['currency']}  "
          f"outcome: {snap['outcome']}{' (' + snap['reason'] + ')' if snap.get('reason') else ''}")
    if snap.get("debtor_original") or snap.get("creditor_original"):
        print(f"  debtor {snap.get('debtor_original') or snap.get('debtor')}  ->  creditor "
              f"{snap.get('creditor_original') or snap.get('creditor')}")
    cond = snap.get("condition")
    if cond:
        print(f"  condition {cond.get('id')}  released by {cond.get('releasing_party')}  expires "
              f"{cond.get('expiry')}  state: {cond.get('state')}")
    for hop in snap["hops"]:
        detail = ", ".join(f"{k}={v}" for k, v in (hop.get("detail") or {}).items())
        reason = f" [{hop['reason']}]" if hop.get("reason") else ""
        print(f"  {hop['at']}  {hop['stage']:<16} by {hop['by']:<8}{reason} {detail}")
    return 0
