"""``router lists``: which sanctions lists are in service, and fetching the current official ones."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from router.config import get_settings

if TYPE_CHECKING:
    from router.screening.model import ListEntry

SHOWN = 10  # entries named per kind of change; the counts are always complete


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("lists", help="sanctions lists: show the ones in service, fetch the current official ones")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="the list versions the settings load now")
    show.set_defaults(func=_show)
    up = actions.add_parser(
        "update", help="download the current OFAC SDN / UN lists into a dated folder of the list directory",
        description="Downloads, validates with the screening loaders, refuses a file that does not parse or "
                    "holds far fewer entries than the version in service, writes atomically into "
                    "DIR/ofac-sdn-DATE/ or DIR/un-sc-DATE/ and prints what changed. Workers whose "
                    "ROUTER_SCREENING__LIST_DIR is DIR load the newest folder of each list without a restart.")
    up.add_argument("--dir", type=Path, default=None,
                    help="list directory (default: ROUTER_SCREENING__LIST_DIR)")
    up.add_argument("--source", choices=("ofac", "un", "all"), default="all")
    up.add_argument("--url", default=None,
                    help="download from here instead of the official address (with --source ofac: the folder "
                         "holding sdn.csv, add.csv, alt.csv, sdn_comments.csv; with --source un: the XML file)")
    up.add_argument("--min-share", type=float, default=None,
                    help="refuse a list with fewer than this share of the entries in service (default 0.8)")
    up.set_defaults(func=_update)


def _show(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.screening.loaders import ListFormatError, load_list

    settings = get_settings().screening
    for path in settings.configured_lists():
        try:
            v = load_list(path).version
        except (ListFormatError, OSError) as exc:
            raise CliError(str(exc)) from exc
        print(f"{v.label}  {v.entries} entries  (date from {v.published_from})  {path}")
    return 0


def _names(entries: tuple[ListEntry, ...]) -> str:
    shown = ", ".join(f"{e.uid} {e.name}" for e in entries[:SHOWN])
    return shown + (f", ... (+{len(entries) - SHOWN})" if len(entries) > SHOWN else "")


def _update(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.screening.update import MIN_SHARE, SOURCES, Source, UpdateError, update_source

    settings = get_settings().screening
    directory: Path | None = args.dir or settings.list_dir
    if directory is None:
        raise CliError("no list directory: pass --dir DIR or set ROUTER_SCREENING__LIST_DIR")
    if args.url and args.source == "all":
        raise CliError("--url names one source's location: use it with --source ofac or --source un")
    min_share = MIN_SHARE if args.min_share is None else args.min_share
    if not 0 <= min_share <= 1:
        raise CliError("--min-share must be between 0 and 1")
    sources: tuple[Source, ...] = SOURCES if args.source == "all" else (args.source,)
    failed = 0
    for source in sources:
        try:
            u = update_source(directory, source, url=args.url, min_share=min_share)
        except (UpdateError, OSError) as exc:
            print(f"{source}: REFUSED, nothing written: {exc}")
            failed += 1
            continue
        was = f"{u.baseline.version.label} ({u.baseline.version.entries})" if u.baseline else "none"
        if u.folder is None:
            print(f"{source}: unchanged, {u.new.version.label} ({u.new.version.entries} entries) stays in service")
            continue
        print(f"{source}: {u.new.version.label} ({u.new.version.entries} entries) written to {u.folder}; was {was}")
        for kind, entries in (("added", u.added), ("removed", u.removed), ("changed", u.changed)):
            print(f"  {kind} {len(entries)}" + (f": {_names(entries)}" if entries else ""))
    if settings.list_dir is None or settings.list_dir.resolve() != directory.resolve():
        print(f"note: workers load {directory} only when ROUTER_SCREENING__LIST_DIR={directory}")
    return 1 if failed else 0
