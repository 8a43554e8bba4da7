"""The ``router`` command: one CLI for every operator and developer task.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser. Errors reach the user as one line naming the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from pydantic import ValidationError

# Modules under router.cli, in help order.
COMMANDS: tuple[str, ...] = (
    "topics", "worker", "settle-worker", "messages", "track", "bench", "fx", "ledger",
    "iso", "screen", "lists", "review", "dlq", "acls",
)
# Modules outside the router that add subcommands (``register(subparsers)``) and benchmark areas
# (``BENCHES``), looked up by name at run time. ``connectors.commands`` adds ``router demo`` and the
# benchmarks that drive the simulators: the simulators import the router, so the router must not
# import them. A deployment without ``connectors`` simply has no demo.
PLUGINS: tuple[str, ...] = ("connectors.commands",)


class CliError(Exception):
    """A problem the user can fix; printed as ``router: <message>`` with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def plugins() -> list[ModuleType]:
    """The plugin modules that are installed."""
    found = []
    for name in PLUGINS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the plugin is there but one of its own imports is missing: say so
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="router",
        description="Cross-border settlement router: CIPS / e-CNY <-> SWIFT CBPR+ on Kafka. "
                    "Settings come from ROUTER_* environment variables (see README).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"router.cli.{name.replace('-', '_')}").register(sub)
    for plugin in plugins():
        plugin.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except CliError as exc:
        print(f"router: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        if not exc.title.endswith("Settings"):
            raise  # invalid data met while running is a bug to show in full, not a settings problem
        print(f"router: invalid settings: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(code or 0)
