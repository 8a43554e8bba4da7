"""Ingest demo: valid and hostile messages through a real worker; counts what came out where."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from router.config import Settings
from router.dlq import header_dict
from router.kafka_clients import client_options
from router.procs import spawn
from router.topics import topic_name

HOSTILE: dict[str, bytes] = {
    "malformed XML": b"<Document><unclosed></Document>",
    "XXE attempt": b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>',
    "wrong namespace": b'<Document xmlns="urn:example:other"><X/></Document>',
}


def _pacs008(uetr: str, n: int) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>
<MsgId>DEMO{n:08d}</MsgId></GrpHdr><CdtTrfTxInf><PmtId><EndToEndId>E2E{n:08d}</EndToEndId>
<UETR>{uetr}</UETR></PmtId></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>""".encode()


async def _feed(s: Settings, payments: int) -> None:
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all", linger_ms=5)
    await producer.start()
    try:
        for n in range(payments):
            uetr = str(uuid.uuid4())
            await producer.send(topic_name("cips.in", s.kafka.topic_prefix), _pacs008(uetr, n), key=uetr.encode())
        for label, raw in HOSTILE.items():
            await producer.send(topic_name("corr.in", s.kafka.topic_prefix), raw, key=label.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _count(s: Settings, expected: int, timeout: float) -> tuple[int, Counter[str]]:
    consumer = AIOKafkaConsumer(
        topic_name("router.accepted", s.kafka.topic_prefix), topic_name("router.dlq", s.kafka.topic_prefix),
        **client_options(s.kafka), group_id=None, auto_offset_reset="earliest", isolation_level="read_committed",
    )
    await consumer.start()
    accepted, rejected = 0, Counter[str]()
    deadline = time.monotonic() + timeout
    try:
        while accepted + sum(rejected.values()) < expected and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    if tp.topic.endswith("router.accepted"):
                        accepted += 1
                    else:
                        h = header_dict(r.headers)
                        rejected[f"{h.get('dlq.reason.code')} {h.get('dlq.reason.text', '')[:60]}"] += 1
    finally:
        await consumer.stop()
    return accepted, rejected


def run_ingest_demo(s: Settings, *, payments: int, report_dir: Path, as_json: bool) -> int:
    log = report_dir / f"{s.app_id}-worker.log"
    print(f"starting router worker (log: {log})")
    worker = spawn(s, log, "worker", "--stages", "ingest")
    try:
        worker.wait_for("Ready", 90)
        t0 = time.monotonic()
        asyncio.run(_feed(s, payments))
        accepted, rejected = asyncio.run(_count(s, payments + len(HOSTILE), timeout=60 + payments / 100))
        elapsed = time.monotonic() - t0
    finally:
        worker.stop()
    summary = {"payments": payments, "accepted": accepted, "dead_lettered": dict(rejected),
               "elapsed_s": round(elapsed, 2), "throughput_per_s": round((accepted + sum(rejected.values())) / elapsed, 1)}
    print(f"\nsent {payments} payments and {len(HOSTILE)} hostile messages")
    print(f"accepted by ingest: {accepted}")
    for reason, n in rejected.items():
        print(f"dead-lettered ({n}): {reason}")
    print(f"throughput: {summary['throughput_per_s']} msg/s")
    if as_json:
        print(json.dumps(summary))
    return 0 if accepted == payments and sum(rejected.values()) == len(HOSTILE) else 1
