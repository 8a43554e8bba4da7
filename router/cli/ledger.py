"""``router ledger ...`` (audit, balances, funding) and ``router settle-worker`` (PvP processors)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
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
    f.set_defaults(func=_fund)

    w = sub.add_parser("settle-worker", help="run the PvP coordinator and account processors")
    w.add_argument("--instance", default="",
                   help="this process's stable name: shown in logs, and its static group membership (a restart "
                        "under the same name takes its partitions straight back)")
    w.add_argument("--web-port", type=int, default=None,
                   help="serve /healthz (200 once every assigned partition is restored, else 503), /livez and "
                        "/metrics on this port, for Kubernetes probes and Prometheus (default: no server)")
    w.set_defaults(func=_worker)


def _check(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.settlement.reader import check_ledger

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
    from router.settlement.reader import read_balances

    try:
        accounts = asyncio.run(read_balances(get_settings()))
    except LookupError as exc:
        raise CliError(str(exc)) from exc
    rows = [{"account": a.account, "owner": a.owner, "currency": a.currency, "balance": str(a.balance),
             "reserved": str(a.reserved), "available": str(a.available), "queued": len(a.queue)}
            for a in accounts.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'account':<24} {'ccy':<4} {'balance':>20} {'reserved':>18} {'available':>20} queued")
    for r in rows:
        print(f"{r['account']:<24} {r['currency']:<4} {r['balance']:>20} {r['reserved']:>18} "
              f"{r['available']:>20} {r['queued']}")
    return 0


def _fund(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from router.cli import CliError
    from router.settlement.reader import fund

    try:
        amount = Decimal(args.amount)
    except InvalidOperation as exc:
        raise CliError(f"amount {args.amount!r} is not a decimal number") from exc
    try:
        cmd = asyncio.run(fund(get_settings(), args.account, amount, args.currency.upper(),
                               args.fund_id or f"fund-{uuid.uuid4()}", args.owner))
    except ValidationError as exc:
        raise CliError(f"invalid funding: {exc.errors()[0]['msg']}") from exc
    print(json.dumps({"funded": cmd.account, "amount": str(cmd.amount), "currency": cmd.currency,
                      "fund_id": cmd.fund_id}))
    return 0


def _worker(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.cli.worker import with_instance
    from router.pipeline.settlement_stage import SettlementLogic, settlement_processor
    from router.streams.processor import Fenced, TopologyError

    s = get_settings()
    if args.instance:
        s = with_instance(s, args.instance)
    logging.basicConfig(level=s.log_level.upper().replace("WARN", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)

    joined = {"settlement": False}

    def ready(parts: list[int]) -> None:
        joined["settlement"] = True
        # Test harnesses, the demo and the benchmark wait for this line.
        print(f"settlement worker ready partitions={parts} instance={args.instance}", flush=True)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        logic = SettlementLogic(s.settlement)
        proc = settlement_processor(s, logic=logic, on_ready=ready)
        web = None
        if args.web_port is not None:
            from router.metrics import RouterMetrics, StageStatsSync
            from router.ops_web import ops_app, processor_health, serve

            metrics = RouterMetrics()
            sync = StageStatsSync(metrics)
            app = ops_app(lambda: [processor_health(proc, joined=joined["settlement"])], metrics.registry,
                          refresh=lambda: sync(proc.logic.name, proc.stats, len(proc.tasks)))
            web = asyncio.create_task(serve(app, s.web.host, args.web_port, stop))
        try:
            await proc.run(stop)
        except Fenced as exc:
            print(f"router: fenced by a newer owner, stopping: {exc}", file=sys.stderr)
            return 3
        except TopologyError as exc:
            raise CliError(str(exc)) from exc
        finally:
            stop.set()
            if web is not None:
                await web
        print(f"settlement worker stopped {json.dumps({**proc.stats, **logic.stats})}", flush=True)
        return 0

    return asyncio.run(main())
