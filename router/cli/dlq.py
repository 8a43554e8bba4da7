"""``router dlq list`` and ``router dlq replay``: look into the dead-letter topic and, once the cause
is fixed, send chosen records back to where they came from, each at most once."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dlq", help="list dead letters; replay chosen ones after a fix")
    dsub = p.add_subparsers(dest="dlq_command", metavar="ACTION")
    dsub.required = True
    ls = dsub.add_parser("list", help="dead letters with their reason, source and replay status")
    _filters(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    rp = dsub.add_parser("replay", help="re-inject chosen dead letters to their source topic, exactly once")
    _filters(rp)
    rp.add_argument("--all", action="store_true", help="replay every dead letter not yet replayed (no filter)")
    rp.add_argument("--dry-run", action="store_true", help="show what would be replayed and what refused")
    rp.add_argument("--note", default="", help="why (kept in the replay marker), e.g. a ticket id")
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=_replay)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--partition", type=int, default=None, help="DLQ partition (needed for an offset range)")
    p.add_argument("--from-offset", type=int, default=None, help="first DLQ offset (inclusive)")
    p.add_argument("--to-offset", type=int, default=None, help="last DLQ offset (inclusive)")
    p.add_argument("--reason", action="append", default=[], help="ISO reason code, e.g. FF01 (repeatable)")
    p.add_argument("--key", action="append", default=[], help="record key, e.g. a UETR (repeatable)")
    p.add_argument("--source-topic", action="append", default=[], help="declared source topic (repeatable)")


def _selection(args: argparse.Namespace) -> Any:
    from router.cli import CliError
    from router.dlq_replay import Selection

    try:
        return Selection(partition=args.partition, from_offset=args.from_offset, to_offset=args.to_offset,
                         reasons=frozenset(args.reason), keys=frozenset(args.key),
                         source_topics=frozenset(args.source_topic))
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _list(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.dlq_kafka import read_dead_letters, read_markers
    from router.dlq_replay import Unreplayable, marker_key, provenance

    s, selection = get_settings(), _selection(args)

    async def load() -> tuple[Any, Any]:
        return await read_dead_letters(s, selection), await read_markers(s)

    try:
        letters, markers = asyncio.run(load())
    except LookupError as exc:
        raise CliError(str(exc)) from exc
    rows = []
    for letter in letters:
        try:
            prov = provenance(letter)
        except Unreplayable as exc:
            if selection.is_everything or selection.matches(letter, None, s.kafka.topic_prefix):
                rows.append({"dlq": letter.where, "key": _text(letter.key), "error": str(exc)})
            continue
        if not selection.matches(letter, prov, s.kafka.topic_prefix):
            continue
        rows.append({"dlq": letter.where, "key": _text(letter.key), "reason": prov.reason_code,
                     "stage": prov.stage, "source": prov.where, "failed_at": prov.failed_at,
                     "text": prov.reason_text, "replayed": marker_key(letter, prov) in markers})
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        if "error" in r:
            print(f"{r['dlq']:<24} key={r['key']} UNREPLAYABLE {r['error']}")
        else:
            done = " replayed" if r["replayed"] else ""
            print(f"{r['dlq']:<24} {r['reason']:<5} {r['stage']:<10} from {r['source']} key={r['key']}{done}: "
                  f"{r['text'][:100]}")
    print(f"{len(rows)} dead letter(s)")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.dlq_kafka import ReplayFenced, replay

    s, selection = get_settings(), _selection(args)
    if selection.is_everything and not args.all:
        raise CliError("choose records (--partition/--from-offset/--to-offset, --reason, --key, --source-topic) "
                       "or say --all")
    try:
        result = asyncio.run(replay(s, selection, note=args.note, dry_run=args.dry_run))
    except (LookupError, ReplayFenced) as exc:
        raise CliError(str(exc), exit_code=1) from exc
    chosen = result.plan
    summary = {
        "would_replay" if args.dry_run else "replayed":
            [{"dlq": d.where, "to": p.where, "key": _text(d.key), "reason": p.reason_code} for d, p in chosen.replay],
        "refused": [{"dlq": r.letter.where, "why": r.reason} for r in chosen.refused],
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        verb = "would replay" if args.dry_run else "replayed"
        for d, p in chosen.replay:
            print(f"{verb} {d.where} -> {p.where} key={_text(d.key)} ({p.reason_code})")
        for r in chosen.refused:
            print(f"refused {r.reason}")
        print(f"{len(chosen.replay)} {verb}, {len(chosen.refused)} refused")
    if not chosen.replay and not chosen.refused:
        raise CliError("no dead letter matches the selection", exit_code=1)
    return 1 if chosen.refused else 0


def _text(key: bytes | None) -> str:
    return "" if key is None else key.decode("utf-8", "replace")
