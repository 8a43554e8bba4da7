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


async def test_ingest_routes_good_to_accepted_and_bad_to_dlq(topics: Settings, tmp_path: Path) -> None:
    s = topics
    worker = start_worker(s, tmp_path / "worker.log", "--stages", "ingest")
    try:
        for name, raw in HOSTILE.items():
            await produce(s, "corr.in", raw, key=name.encode(), headers=[("sender", b"TESTBANK")])
        # Sent after the bad ones: proves a bad message never stops the worker.
        await produce(s, "cips.in", VALID, key=b"k-valid")

        accepted = await consume(s, "router.accepted", until=lambda rs: len(rs) >= 1)
        dlq = await consume(s, "router.dlq", until=lambda rs: len(rs) >= len(HOSTILE))
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()

    assert len(accepted) == 1
    good = accepted[0]
    assert good.key == UETR.encode()
    hdr = header_dict(good.headers)
    assert hdr["iso.message"] == "pacs.008.001.08"
    assert hdr["router.source"] == "cips"
    assert json.loads(good.value)["uetr"] == UETR, "router.accepted carries the canonical model as JSON"

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
