"""Issue 3, item 7 on the real broker: ingest validates against the source profile and rules and
normalises once; a valid CIPS pacs.008 reaches the corridor's state as its canonical model, an invalid one lands
in router.dlq with its original bytes AND the sender gets admi.002 / pacs.002 RJCT on its out topic."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from router.config import Settings
from router.corridor import state as state_codec
from router.dlq import header_dict
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.iso20022.inbound import extract
from router.iso20022.model import Payment, StatusReport
from router.iso20022.parser import parse_xml
from router.iso20022.registry import identify
from router.iso20022.schemas import validate_schemas
from router.outcome import Ok
from tests.support.kafka import consume, produce, start_worker

pytestmark = pytest.mark.integration


def _read(raw: bytes, profile: str) -> object:
    ident = identify(parse_xml(raw, max_bytes=1 << 20).value).value  # type: ignore[union-attr]
    assert validate_schemas(ident, profile) == []  # type: ignore[arg-type]
    found = extract(ident)
    assert isinstance(found, Ok)
    return found.value


async def test_valid_to_the_corridor_invalid_to_dlq_with_reply(topics: Settings, tmp_path: Path) -> None:
    s = topics
    good = ex.cips_pacs008(uetr=str(uuid.uuid4()))
    no_purpose = ex.cips_pacs008(uetr=str(uuid.uuid4())).model_copy(update={"purpose": None})  # CIPS XSD
    bad_rule = ex.cips_pacs008(uetr=str(uuid.uuid4()), debtor_agent="C12")  # not a CIPS participant id
    bad_corr = ex.cbpr_pacs008(uetr=str(uuid.uuid4())).model_copy(update={"instr_id": "X" * 20})
    raw_no_purpose = build_message(no_purpose, "cips")
    raw_bad_rule = build_message(bad_rule, "cips")
    raw_bad_corr = build_message(bad_corr, "cbpr")
    garbage = b"<Document><unclosed>"

    worker = start_worker(s, tmp_path / "w.log", "--stages", "corridor")
    try:
        await produce(s, "cips.in", raw_no_purpose, key=no_purpose.uetr.encode())
        await produce(s, "cips.in", raw_bad_rule, key=bad_rule.uetr.encode())
        await produce(s, "cips.in", garbage, key=b"garbage")
        await produce(s, "corr.in", raw_bad_corr, key=bad_corr.uetr.encode())
        await produce(s, "cips.in", build_message(good, "cips"), key=good.uetr.encode())

        kept = await consume(s, "corridor.state", until=lambda rs: len(rs) >= 1)
        dlq = await consume(s, "router.dlq", until=lambda rs: len(rs) >= 4)
        cips_out = await consume(s, "cips.out", until=lambda rs: len(rs) >= 3)
        corr_out = await consume(s, "corr.out", until=lambda rs: len(rs) >= 1)
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()

    # The valid payment: taken in once, its canonical model exactly the message sent, kept by UETR.
    assert len(kept) == 1
    rec = kept[0]
    assert rec.key == good.uetr.encode()
    state = state_codec.decode(rec.value)
    assert state.source == "cips" and isinstance(state.payment, Payment) and state.payment == good

    # The invalid ones: original bytes in the DLQ with a reason.
    by_key = {r.key: r for r in dlq}
    assert by_key[no_purpose.uetr.encode()].value == raw_no_purpose
    assert "Purp" in header_dict(by_key[no_purpose.uetr.encode()].headers)["dlq.reason.text"]
    assert by_key[bad_rule.uetr.encode()].value == raw_bad_rule
    assert header_dict(by_key[bad_rule.uetr.encode()].headers)["dlq.reason.code"] == "RC08"
    assert by_key[b"garbage"].value == garbage
    assert by_key[bad_corr.uetr.encode()].value == raw_bad_corr

    # ... and a reply to each sender on its own side.
    replies = {r.key: r for r in cips_out}
    admi = replies[no_purpose.uetr.encode()]
    assert header_dict(admi.headers)["iso.message"] == "admi.002.001.01"
    reject = _read(admi.value, "cips")
    assert reject.reference == no_purpose.msg_id and reject.reason == "FF01"  # type: ignore[attr-defined]
    rjct = _read(replies[bad_rule.uetr.encode()].value, "cips")
    assert isinstance(rjct, StatusReport)
    assert rjct.status == "RJCT" and rjct.reason_code == "RC08" and rjct.original.uetr == bad_rule.uetr
    assert header_dict(replies[b"garbage"].headers)["iso.message"] == "admi.002.001.01"

    corr_reply = corr_out[0]
    assert header_dict(corr_reply.headers)["receiver-bic"] == "NRDBDEFF"
    sts = _read(corr_reply.value, "cbpr")
    assert isinstance(sts, StatusReport) and sts.status == "RJCT" and sts.reason_code == "CH16"
