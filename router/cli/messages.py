"""``router send`` and ``router peek``: put files on a topic, read records off one."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path

from router.config import get_settings
from router.topics import BY_NAME, topic_name


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("send", help="produce files (raw bytes) to a declared topic")
    s.add_argument("--topic", required=True, choices=sorted(BY_NAME))
    s.add_argument("--key", default=None, help="record key (default: a fresh UUID per file)")
    s.add_argument("files", nargs="+", type=Path)
    s.set_defaults(func=_send)
    p = sub.add_parser("peek", help="print records of a declared topic from the beginning")
    p.add_argument("--topic", required=True, choices=sorted(BY_NAME))
    p.add_argument("--max", type=int, default=50)
    p.add_argument("--timeout", type=float, default=3.0, help="stop after this many idle seconds")
    p.add_argument("--json", action="store_true", help="one JSON object per record")
    p.set_defaults(func=_peek)


def _send(args: argparse.Namespace) -> int:
    from router.cli import CliError

    for f in args.files:
        if not f.is_file():
            raise CliError(f"{f}: no such file")
    asyncio.run(_produce(args))
    return 0


async def _produce(args: argparse.Namespace) -> None:
    from aiokafka import AIOKafkaProducer

    from router.kafka_clients import client_options

    k = get_settings().kafka
    producer = AIOKafkaProducer(**client_options(k), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        name = topic_name(args.topic, k.topic_prefix)
        for f in args.files:
            key = (args.key or str(uuid.uuid4())).encode()
            md = await producer.send_and_wait(name, f.read_bytes(), key=key)
            print(f"{f}: {name}[{md.partition}]@{md.offset}")
    finally:
        await producer.stop()


def _peek(args: argparse.Namespace) -> int:
    asyncio.run(_consume(args))
    return 0


async def _consume(args: argparse.Namespace) -> None:
    from aiokafka import AIOKafkaConsumer

    from router.dlq import header_dict
    from router.kafka_clients import client_options

    k = get_settings().kafka
    consumer = AIOKafkaConsumer(
        topic_name(args.topic, k.topic_prefix),
        **client_options(k),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    seen = 0
    try:
        while seen < args.max:
            batch = await consumer.getmany(timeout_ms=int(args.timeout * 1000), max_records=args.max - seen)
            if not batch:
                break
            for records in batch.values():
                for r in records:
                    seen += 1
                    value = (r.value or b"").decode("utf-8", "replace")
                    if args.json:
                        print(json.dumps({"partition": r.partition, "offset": r.offset,
                                          "key": (r.key or b"").decode("utf-8", "replace"),
                                          "headers": header_dict(r.headers), "value": value}))
                    else:
                        sys.stdout.write(f"--- {r.topic}[{r.partition}]@{r.offset} key={r.key!r}\n")
                        for hk, hv in header_dict(r.headers).items():
                            sys.stdout.write(f"    {hk}: {hv}\n")
                        sys.stdout.write(value[:2000] + "\n")
    finally:
        await consumer.stop()
