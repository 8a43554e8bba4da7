"""``router topics create|list``: the declared topic contract, applied to a cluster."""

from __future__ import annotations

import argparse
import asyncio

from router.config import get_settings
from router.topics import TOPICS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("topics", help="create or list the router's topics")
    tsub = p.add_subparsers(dest="action", metavar="ACTION")
    tsub.required = True
    c = tsub.add_parser("create", help="create every declared topic that does not exist (idempotent)")
    c.set_defaults(func=_create)
    ls = tsub.add_parser("list", help="print the declared topic contract")
    ls.set_defaults(func=_list)


def _create(args: argparse.Namespace) -> int:
    from router.kafka_clients import create_topics

    s = get_settings()
    result = asyncio.run(create_topics(s.kafka))
    for name, state in result.items():
        print(f"{name}: {state}")
    return 0


def _list(args: argparse.Namespace) -> int:
    prefix = get_settings().kafka.topic_prefix
    for t in TOPICS:
        policy = "compact" if t.compacted else f"delete after {(t.retention_ms or 0) // 3_600_000} h"
        print(f"{prefix}{t.name:<22} key={t.key:<14} partitions={t.partitions:<3} {policy:<22} {t.content}")
    return 0
