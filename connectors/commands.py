"""The ``router`` subcommands that drive the simulators: ``router demo``, ``router fx feed`` and the
benchmark areas in ``connectors.bench``. The router finds this module by name at run time (``router.cli.PLUGINS``):
the simulators depend on the router, never the reverse."""

from __future__ import annotations

import argparse

from connectors import demo_cli, fx_feed
from connectors.bench import BENCHES as BENCHES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo_cli.register(sub)


def register_fx(fsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``router fx feed``: replay ECB reference rates as quotes on fx.rates."""
    f = fsub.add_parser("feed", help="replay ECB reference rates as quotes on fx.rates")
    fx_feed.add_arguments(f)
    f.set_defaults(func=_feed)


def _feed(args: argparse.Namespace) -> int:
    import asyncio

    n = asyncio.run(fx_feed.run_from_args(args))
    print(f"published {n} quotes")
    return 0
