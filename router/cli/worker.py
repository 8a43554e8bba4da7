"""``router worker``: run the payment path's stages in this process (``router.roles.payment_worker``)."""

from __future__ import annotations

import argparse

from router.bootstrap import PAYMENT_STAGES
from router.config import Settings, get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="run the payment pipeline's stages")
    p.add_argument("--stages", default=",".join(PAYMENT_STAGES),
                   help=f"comma-separated stages of {', '.join(PAYMENT_STAGES)} (default: all)")
    p.add_argument("--web-port", type=int, default=None, help="override the web port")
    p.add_argument("--instance", default=None,
                   help="this process's stable name (static group membership: a restart under the same name "
                        "takes its partitions straight back); also ROUTER_KAFKA__INSTANCE_ID")
    p.set_defaults(func=_run)


def with_instance(s: Settings, name: str) -> Settings:
    """``s`` with this process's static-membership name, validated like every other setting."""
    from pydantic import ValidationError

    from router.cli import CliError
    from router.config import KafkaSettings

    try:
        kafka = KafkaSettings.model_validate({**s.kafka.model_dump(), "instance_id": name})
    except ValidationError as exc:
        raise CliError(f"--instance {name!r}: {exc.errors()[0]['msg']}") from exc
    return s.model_copy(update={"kafka": kafka})


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from router.bootstrap import configure_logging
    from router.cli import CliError
    from router.kafka_access import AccessDenied
    from router.roles import payment_worker
    from router.streams.processor import StateDirError, TopologyError

    s = get_settings()
    stages = tuple(x.strip() for x in args.stages.split(",") if x.strip())
    unknown = [x for x in stages if x not in PAYMENT_STAGES]
    if unknown:
        raise CliError(f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(PAYMENT_STAGES)} "
                       "(the settlement core runs in `router settle-worker`)")
    if args.web_port is not None:
        s = s.model_copy(update={"web": s.web.model_copy(update={"port": args.web_port})})
    if args.instance:
        s = with_instance(s, args.instance)
    configure_logging(s)
    try:
        return asyncio.run(payment_worker.run(s, stages))
    except (AccessDenied, StateDirError, TopologyError) as exc:
        raise CliError(str(exc)) from exc
