"""``router bench AREA``: speed and memory measurements (results go into BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import importlib
import json

from router.bench import BENCHES


def all_benches() -> dict[str, str]:
    """Benchmark area -> module: the router's own and the plugins' (``router.cli.PLUGINS``)."""
    from router.cli import plugins

    found = dict(BENCHES)
    for plugin in plugins():
        found.update(getattr(plugin, "BENCHES", {}))
    return dict(sorted(found.items()))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="run a benchmark and print its numbers")
    areas = p.add_subparsers(dest="area", metavar="AREA")
    areas.required = True
    for area, module in all_benches().items():
        mod = importlib.import_module(module)
        ap = areas.add_parser(area, help=(mod.__doc__ or area).strip().splitlines()[0])
        mod.add_arguments(ap)
        ap.set_defaults(func=lambda args, mod=mod: _run(mod, args))


def _run(mod: object, args: argparse.Namespace) -> int:
    result = mod.run(args)  # type: ignore[attr-defined]
    print(json.dumps(result, indent=2, default=str))
    return 0
