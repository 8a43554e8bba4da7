"""``ingest_message``: validate against the source profile and rules, normalise once, or refuse with
a DLQ reason and a reply for the sender (admi.002 / pacs.002 RJCT)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from router.ingest import Normalised, Refused, ingest_message
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.iso20022.inbound import extract
from router.iso20022.model import CanonicalMessage, Payment
from router.iso20022.parser import parse_xml
from router.iso20022.registry import identify
from router.iso20022.schemas import validate_schemas
from router.outcome import Ok

MAX = 256 * 1024
BIC = "ROUTCNSHXXX"


def _reply_valid(raw: bytes, profile: str) -> object:
    ident = identify(parse_xml(raw, max_bytes=MAX).value).value  # type: ignore[union-attr]
    assert validate_schemas(ident, profile) == []  # type: ignore[arg-type]
    found = extract(ident)
    assert isinstance(found, Ok)
    return found.value


# The canonical model survives JSON (the corridor keeps it in its changelog that way).
CANONICAL: TypeAdapter[CanonicalMessage] = TypeAdapter(CanonicalMessage)


def through_json(m: CanonicalMessage) -> CanonicalMessage:
    return CANONICAL.validate_json(m.model_dump_json(exclude_none=True))


def test_valid_cips_payment_normalises_to_canonical_json() -> None:
    p = ex.cips_pacs008()
    out = ingest_message(build_message(p, "cips"), side="cips", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Ok) and isinstance(out.value, Normalised)
    assert out.value.message == p and out.value.ingested.uetr == p.uetr
    back = through_json(out.value.message)
    assert back == p


def test_valid_correspondent_message_in_swift_envelope_and_bare_document() -> None:
    p = ex.cbpr_pacs008()
    for wrapper in ("swift", "none", "corridor"):
        out = ingest_message(build_message(p, "cbpr", wrapper), side="corr", max_bytes=MAX,  # type: ignore[arg-type]
                             router_bic=BIC)
        assert isinstance(out, Ok), (wrapper, out)
        assert isinstance(out.value.message, Payment) and out.value.message.uetr == p.uetr


def test_schema_invalid_input_gets_admi002_on_the_senders_profile() -> None:
    # A CBPR+ payment sent on the CIPS side breaks the CIPS profile (settlement method).
    out = ingest_message(build_message(ex.cbpr_pacs008(), "cbpr"), side="cips", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused)
    assert out.reject.stage == "schema" and out.reject.code == "FF01" and "SttlmMtd" in out.reject.text
    assert out.reply.message_id == "admi.002.001.01"
    rej = _reply_valid(out.reply.value, "cips")
    assert rej.reference == "NRDB2026110200017"  # type: ignore[attr-defined]  # the BizMsgIdr refused
    assert out.reply.receiver is not None and out.reply.receiver.bic == "NRDBDEFF"


def test_rule_breaking_payment_gets_pacs002_rjct_with_reason_code() -> None:
    bad = ex.cbpr_pacs008().model_copy(update={"instr_id": "NRDB-INSTRUCTION-00017"})  # > 16 chars
    out = ingest_message(build_message(bad, "cbpr"), side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused)
    assert out.reject.stage == "rules" and out.reject.code == "CH16" and "InstrId" in out.reject.text
    assert out.reply.message_id == "pacs.002.001.10"
    sts = _reply_valid(out.reply.value, "cbpr")
    assert sts.status == "RJCT" and sts.reason_code == "CH16"  # type: ignore[attr-defined]
    assert sts.original.uetr == bad.uetr and sts.original.msg_id == bad.msg_id  # type: ignore[attr-defined]
    assert sts.header.receiver.bic == "NRDBDEFF"  # type: ignore[attr-defined]


def test_bad_iban_gets_rjct_ac01() -> None:
    from router.iso20022.model import Account

    bad = ex.cbpr_pacs008().model_copy(update={"debtor_account": Account(id="DE89370400440532013001", kind="iban")})
    out = ingest_message(build_message(bad, "cbpr"), side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused) and out.reject.code == "AC01" and out.reply.message_id == "pacs.002.001.10"


def test_cips_rule_failure_reply_follows_the_cips_profile() -> None:
    bad = ex.cips_pacs008().model_copy(update={"debtor_agent": ex.Agent(cips_id="C12")})
    out = ingest_message(build_message(bad, "cips"), side="cips", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused) and out.reply.message_id == "pacs.002.001.10"
    sts = _reply_valid(out.reply.value, "cips")
    assert sts.header.receiver.cips_id == "C1021000012"  # type: ignore[attr-defined]


def test_reject_text_with_chinese_is_fin_x_in_a_cbpr_admi002() -> None:
    raw = build_message(ex.cips_pacs008(), "cips")  # Chinese names: invalid for the CBPR+ pattern
    out = ingest_message(raw, side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused) and out.reply.message_id == "admi.002.001.01"
    _reply_valid(out.reply.value, "cbpr")


def test_header_only_record_is_refused() -> None:
    raw = build_message(ex.cbpr_pacs008(), "cbpr")
    from lxml import etree

    root = etree.fromstring(raw)
    only_header = etree.tostring(root[0])
    out = ingest_message(only_header, side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused) and out.reject.stage == "extract"
    assert out.reply.message_id == "admi.002.001.01"


@pytest.mark.parametrize("kind", ["status", "return", "cancel", "resolution", "notification"])
def test_other_inbound_types_normalise(kind: str) -> None:
    make = {"status": ex.status_report, "return": ex.payment_return, "cancel": ex.cancellation,
            "resolution": ex.resolution, "notification": ex.notification}[kind]
    m = make("corr")
    out = ingest_message(build_message(m, "cbpr"), side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Ok) and out.value.message == m
    assert through_json(out.value.message) == m


def test_refusal_carries_the_uetr_when_readable() -> None:
    bad = ex.cbpr_pacs008().model_copy(update={"instr_id": "NRDB-INSTRUCTION-00017"})
    out = ingest_message(build_message(bad, "cbpr"), side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused) and out.uetr == bad.uetr
    junk = ingest_message(b"<Document", side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(junk, Refused) and junk.uetr is None


def test_rule_reject_names_element_path_and_line() -> None:
    from lxml import etree

    bad = ex.cbpr_pacs008().model_copy(update={"instr_id": "NRDB-INSTRUCTION-00017"})
    pretty = etree.tostring(etree.fromstring(build_message(bad, "cbpr")), pretty_print=True)
    out = ingest_message(pretty, side="corr", max_bytes=MAX, router_bic=BIC)
    assert isinstance(out, Refused)
    line = next(i for i, text in enumerate(pretty.decode().splitlines(), 1) if "<InstrId>" in text)
    assert f"/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/InstrId (line {line}):" in out.reject.text
