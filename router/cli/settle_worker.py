"""``router settle-worker``: run the PvP settlement core (``router.roles.settlement_worker``)."""

from __future__ import annotations

import argparse

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser("settle-worker", help="run the ledger shard: PvP settlement, liquidity queue, journal")
    w.add_argument("--instance", default="",
                   help="this process's stable name: shown in logs, and its static group membership (a restart "
                        "under the same name takes its partitions straight back)")
    w.add_argument("--web-port", type=int, default=None,
                   help="serve /healthz (200 once every assigned partition is restored, else 503), /livez and "
                        "/metrics on this port, for Kubernetes probes and Prometheus (default: no server)")
    w.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from router.bootstrap import configure_logging
    from router.cli import CliError
    from router.cli.worker import with_instance
    from router.kafka_access import AccessDenied
    from router.roles import settlement_worker
    from router.streams.processor import TopologyError

    s = get_settings()
    if args.instance:
        s = with_instance(s, args.instance)
    configure_logging(s)
    try:
        return asyncio.run(settlement_worker.run(s, args.instance, args.web_port))
    except (TopologyError, AccessDenied) as exc:
        raise CliError(str(exc)) from exc
