"""``router worker``: run router stages in this process.

The payment path (``ingest``, ``corridor``) runs on Kafka transactions; the FX pricing service
(``fx``) is a faust stage. One process runs either kind, not both.
"""

from __future__ import annotations

import argparse

from router.config import Settings, get_settings
from router.pipeline import DEFAULT_STAGES, FAUST_STAGES, STAGES, TRANSACTIONAL_STAGES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="run router stages (the payment pipeline by default)")
    p.add_argument("--stages", default=",".join(DEFAULT_STAGES),
                   help=f"comma-separated stages of {', '.join(STAGES)} (default: {','.join(DEFAULT_STAGES)})")
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
    import logging

    from router.cli import CliError

    s = get_settings()
    stages = tuple(x.strip() for x in args.stages.split(",") if x.strip())
    unknown = [x for x in stages if x not in STAGES]
    if unknown:
        raise CliError(f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    if args.web_port is not None:
        s = s.model_copy(update={"web": s.web.model_copy(update={"port": args.web_port})})
    if args.instance:
        s = with_instance(s, args.instance)
    if all(x in TRANSACTIONAL_STAGES for x in stages):
        from router.pipeline.runner import run_pipeline

        logging.basicConfig(level=s.log_level.upper().replace("WARN", "WARNING"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return asyncio.run(run_pipeline(s, stages))
    if not all(x in FAUST_STAGES for x in stages):
        raise CliError(f"run the transactional stages ({', '.join(TRANSACTIONAL_STAGES)}) and the faust "
                       f"stages ({', '.join(FAUST_STAGES)}) in separate worker processes")
    import faust

    from router.app import build_app

    app = build_app(s, stages=stages)
    worker = faust.Worker(app, loglevel=s.log_level, quiet=True)
    worker.execute_from_commandline()  # exits the process when the worker stops
    return 0
