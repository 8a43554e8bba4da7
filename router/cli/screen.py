"""``router screen``: screen names against the sanctions lists, one JSON object per name."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("screen", help="screen names against the sanctions lists")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--name", action="append", help="a name to screen (repeatable)")
    src.add_argument("--names-file", type=Path, help="UTF-8 file with one name per line")
    p.add_argument("--country", help="ISO 3166 alpha-2 country of the party (embargo / high-risk check)")
    p.add_argument("--list", dest="lists", action="append", type=Path, default=[],
                   help="list file (OFAC sdn.csv with its add/alt siblings, OFAC XML, UN XML); repeatable; "
                        "default: the configured lists")
    p.add_argument("--json", action="store_true", help="JSON lines output (the default; kept for scripts)")
    p.set_defaults(func=_run)


def _names(args: argparse.Namespace) -> list[str]:
    from router.cli import CliError

    if args.name:
        return [str(n) for n in args.name]
    path: Path = args.names_file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8: {exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def _run(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.screening.loaders import ListFormatError, load_list
    from router.screening.screener import Screener
    from router.screening.settings import _country

    settings = get_settings().screening
    country = None
    if args.country:
        try:
            country = _country(args.country)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    paths = tuple(args.lists) or settings.configured_lists()
    try:
        lists = [load_list(p) for p in paths]
    except (ListFormatError, OSError) as exc:
        raise CliError(str(exc)) from exc
    screener = Screener(lists, settings)
    out = sys.stdout
    for name in _names(args):
        matches = screener.screen_name(name, party="name") + screener.screen_country(country, party="country")
        out.write(json.dumps({
            "name": name,
            "outcome": screener.outcome_of(matches),
            "matches": [{"list": m.list, "entry": m.entry, "entry_name": m.entry_name, "field": m.field,
                         "matched": m.matched, "score": m.score} for m in matches],
            "list_versions": [v.label for v in screener.versions],
        }, ensure_ascii=False) + "\n")
    return 0
