"""``router ledger ...``: audit the settlement ledger, show balances, fund accounts."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from decimal import Decimal, InvalidOperation

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ledger", help="settlement ledger: check invariants, show balances, fund accounts")
    lsub = p.add_subparsers(dest="ledger_command", metavar="ACTION")
    lsub.required = True
    c = lsub.add_parser("check", help="verify conservation, no overdraft, one decision, legs booked once")
    c.add_argument("--json", action="store_true", help="print the JSON summary only")
    c.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="keep re-reading until the invariants hold or SECONDS pass (for in-flight work)")
    c.add_argument("--push-gateway", default=None, metavar="URL",
                   help="also push the verdict to a Prometheus Pushgateway (job corridor-router-ledger-check), "
                        "where the ledger alerts read it")
    c.set_defaults(func=_check)
    b = lsub.add_parser("balances", help="every account's balance, reservations and availability")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=_balances)
    f = lsub.add_parser("fund", help="add external liquidity to an account (released to its queue)")
    f.add_argument("account")
    f.add_argument("amount")
    f.add_argument("currency")
    f.add_argument("--owner", default=None)
    f.add_argument("--fund-id", default=None, help="idempotence key (default: a new uuid)")
    f.add_argument("--by", default=None, help="who sends the funding (on the journal)")
    f.set_defaults(func=_fund)
    k = lsub.add_parser("cap", help="set (or with 'none' remove) a participant's net debit cap, audited")
    k.add_argument("participant")
    k.add_argument("amount", help="an amount in each account's currency, or 'none'")
    k.add_argument("--by", required=True, help="who makes the change (on the journal)")
    k.set_defaults(func=_cap)


def _check(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.ledger_reader import check_ledger

    try:
        report = asyncio.run(check_ledger(get_settings(), wait_s=args.wait))
    except LookupError as exc:
        raise CliError(str(exc)) from exc
    summary = report.as_dict()
    if args.push_gateway:
        _push(args.push_gateway, ok=report.ok, violations=report.violation_count)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"settlements {report.settlements}: {report.commits} committed, {report.aborts} aborted, "
              f"{report.undecided} undecided, {report.duplicates_answered} duplicates answered")
        passes = ", ".join(f"{k} {v['sets']} sets / {v['settlements']} settlements"
                           for k, v in report.lsm_by_kind.items())
        print(f"liquidity-saving mechanism: {report.lsm_runs} sets, {report.lsm_settlements} settlements"
              + (f" ({passes})" if passes else ""))
        for ccy, t in summary["currencies"].items():
            print(f"  {ccy}: opening {t['opening']} + funded {t['funded']} -> balances {t['balances']} "
                  f"(reserved {t['reserved']})")
        print(f"violations: {report.violation_count}")
        for msg in report.violations:
            print(f"  - {msg}")
    return 0 if report.ok else 1


def _push(url: str, *, ok: bool, violations: int) -> None:
    import time

    from prometheus_client import push_to_gateway

    from router.cli import CliError
    from router.metrics import ledger_check_registry

    try:
        push_to_gateway(url, job="corridor-router-ledger-check",
                        registry=ledger_check_registry(ok=ok, violations=violations, at=time.time()))
    except OSError as exc:
        # The check itself ran; say so, and fail the run so the CronJob shows it.
        raise CliError(f"ledger check {'passed' if ok else 'FAILED'} but the push to {url} failed: {exc}",
                       exit_code=1) from exc


def _balances(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.ledger_reader import read_balances

    try:
        accounts = asyncio.run(read_balances(get_settings()))
    except LookupError as exc:
        raise CliError(str(exc)) from exc
    from router.ledger_reader import read_caps

    caps = asyncio.run(read_caps(get_settings()))
    rows = [{"account": a.account, "owner": a.owner, "currency": a.currency, "balance": str(a.balance),
             "reserved": str(a.reserved), "available": str(a.available), "net": str(a.net),
             "net_debit_cap": str(caps[a.owner]) if a.owner in caps else None} for a in accounts.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'account':<24} {'ccy':<4} {'balance':>20} {'reserved':>18} {'available':>20} {'net':>18} {'cap':>16}")
    for r in rows:
        print(f"{r['account']:<24} {r['currency']:<4} {r['balance']:>20} {r['reserved']:>18} {r['available']:>20} "
              f"{r['net']:>18} {r['net_debit_cap'] or '-':>16}")
    return 0


def _cap(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from router.cli import CliError
    from router.ledger_reader import set_cap

    try:
        amount = None if args.amount.lower() == "none" else Decimal(args.amount)
    except InvalidOperation as exc:
        raise CliError(f"amount {args.amount!r} is not a decimal number") from exc
    try:
        cmd = asyncio.run(set_cap(get_settings(), args.participant, amount, args.by, f"cap-{uuid.uuid4()}"))
    except ValidationError as exc:
        raise CliError(f"invalid cap: {exc.errors()[0]['msg']}") from exc
    print(json.dumps({"participant": cmd.participant, "net_debit_cap": None if cmd.amount is None else str(cmd.amount),
                      "by": cmd.by, "command_id": cmd.command_id}))
    return 0


def _fund(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from router.cli import CliError
    from router.ledger_reader import fund

    try:
        amount = Decimal(args.amount)
    except InvalidOperation as exc:
        raise CliError(f"amount {args.amount!r} is not a decimal number") from exc
    try:
        cmd = asyncio.run(fund(get_settings(), args.account, amount, args.currency.upper(),
                               args.fund_id or f"fund-{uuid.uuid4()}", args.owner, args.by))
    except ValidationError as exc:
        raise CliError(f"invalid funding: {exc.errors()[0]['msg']}") from exc
    print(json.dumps({"funded": cmd.account, "amount": str(cmd.amount), "currency": cmd.currency,
                      "fund_id": cmd.fund_id}))
    return 0
