"""Ingest on the real broker: good messages go on, hostile and broken ones land in the DLQ with
their original bytes and a reason, and the worker keeps consuming afterwards."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from router.config import Settings
from router.dlq import header_dict
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from tests.support.kafka import consume, produce, start_worker

pytestmark = pytest.mark.integration

UETR = str(uuid.uuid4())
VALID = build_message(ex.cips_pacs008(uetr=UETR), "cips")

HOSTILE: dict[str, bytes] = {
    "malformed": b"<Document><FIToFICstmrCdtTrf></Document>",
    "xxe": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>',
    "billion-laughs": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                       b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                       b"<lolz>&lol3;</lolz>"),
    "wrong-namespace": b'<Document xmlns="urn:example:not-iso"><Pmt/></Document>',
    "oversize": b"<Document>" + b"x" * 300_000 + b"</Document>",
}
REASONS = {
    "malformed": "not well-formed",
    "xxe": "DOCTYPE",
    "billion-laughs": "DOCTYPE",
    "wrong-namespace": "unsupported message namespace",
    "oversize": "exceeds",
}


async def test_intake_routes_good_to_the_corridor_and_bad_to_dlq(topics: Settings, tmp_path: Path) -> None:
    s = topics
    worker = start_worker(s, tmp_path / "worker.log", "--stages", "corridor")
    try:
        for name, raw in HOSTILE.items():
            await produce(s, "corr.in", raw, key=name.encode(), headers=[("sender", b"TESTBANK")])
        # Sent after the bad ones: proves a bad message never stops the worker.
        await produce(s, "cips.in", VALID, key=b"k-valid")

        status = await consume(s, "payments.status", until=lambda rs: len(rs) >= 1)
        rekeyed = await consume(s, "cips.in", until=lambda rs: len(rs) >= 2)
        dlq = await consume(s, "router.dlq", until=lambda rs: len(rs) >= len(HOSTILE))
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()

    # Sent under another key, the payment went round once more under its UETR (same bytes), so that
    # every later event of the payment meets its state in one task; then the corridor took it in.
    # The two keys may land on different partitions, and a consumer returns partitions in any order.
    assert sorted((r.key, r.value) for r in rekeyed) == sorted([(b"k-valid", VALID), (UETR.encode(), VALID)])
    (snap,) = status
    assert snap.key == UETR.encode()
    body = json.loads(snap.value)
    assert (body["uetr"], body["phase"], body["hops"][0]["stage"]) == (UETR, "screening", "received")

    by_key = {r.key.decode(): r for r in dlq}
    assert set(by_key) == set(HOSTILE)
    for name, raw in HOSTILE.items():
        rec = by_key[name]
        h = header_dict(rec.headers)
        assert rec.value == raw, f"{name}: DLQ must keep the original bytes"
        assert h["dlq.reason.code"] == "FF01"
        assert REASONS[name] in h["dlq.reason.text"], (name, h["dlq.reason.text"])
        assert h["dlq.source.topic"] == f"{s.kafka.topic_prefix}corr.in"
        assert int(h["dlq.source.offset"]) >= 0
        assert h["sender"] == "TESTBANK", "the record's own headers are kept"
