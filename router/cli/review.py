"""``router review-server``: run the compliance review page (held cases, release / reject)."""

from __future__ import annotations

import argparse
import logging

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("review-server", help="serve the compliance review web page")
    p.add_argument("--host", default=None, help="bind address (default: settings web.host)")
    p.add_argument("--port", type=int, default=None, help="port (default: settings web.port)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from router.web.server import serve

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper().replace("WARN", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(settings, host=args.host, port=args.port)
    return 0
