"""``router worker``: run the faust stages of the router in this process."""

from __future__ import annotations

import argparse

from router.config import get_settings
from router.pipeline import DEFAULT_STAGES, STAGES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="run router stages (faust worker)")
    p.add_argument("--stages", default=",".join(DEFAULT_STAGES),
                   help=f"comma-separated stages of {', '.join(STAGES)} (default: {','.join(DEFAULT_STAGES)})")
    p.add_argument("--web-port", type=int, default=None, help="override the web port (0 = settings)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import faust

    from router.app import build_app
    from router.cli import CliError

    s = get_settings()
    stages = tuple(x.strip() for x in args.stages.split(",") if x.strip())
    unknown = [x for x in stages if x not in STAGES]
    if unknown:
        raise CliError(f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    if args.web_port is not None:
        s = s.model_copy(update={"web": s.web.model_copy(update={"port": args.web_port})})
    app = build_app(s, stages=stages)
    worker = faust.Worker(app, loglevel=s.log_level, quiet=True)
    worker.execute_from_commandline()  # exits the process when the worker stops
    return 0
