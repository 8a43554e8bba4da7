"""Ingest identifies every supported wrapper and message by namespace, and rejects the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.ingest import ingest
from router.iso20022.registry import BY_ID, CORRIDOR_ENVELOPE_NS, HEAD_NS, SWIFT_ENVELOPE_NS
from router.outcome import Ok, Reject

LIMIT = 256 * 1024
UETR = "eb6305c9-1f7f-49de-aed0-16487c27b42d"
PACS008 = f"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>M1</MsgId></GrpHdr><CdtTrfTxInf><PmtId><InstrId>I1</InstrId><EndToEndId>E1</EndToEndId>
<UETR>{UETR}</UETR></PmtId></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>"""
HEADER = f"""<AppHdr xmlns="{HEAD_NS}"><BizMsgIdr>B1</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr>
<BizSvc>swift.cbprplus.02</BizSvc></AppHdr>"""


def ok(raw: str | bytes) -> Ok:  # type: ignore[type-arg]
    result = ingest(raw.encode() if isinstance(raw, str) else raw, max_bytes=LIMIT)
    assert isinstance(result, Ok), result
    return result


def rejected(raw: str) -> Reject:
    result = ingest(raw.encode(), max_bytes=LIMIT)
    assert isinstance(result, Reject), result
    return result


def test_bare_document_is_identified_with_its_uetr() -> None:
    ing = ok(PACS008).value
    assert ing.message_id == "pacs.008.001.08"
    assert ing.uetr == UETR
    assert ing.identified.wrapper == "document"
    assert ing.biz_svc is None


@pytest.mark.parametrize(("ns", "wrapper"), [(SWIFT_ENVELOPE_NS, "swift-envelope"),
                                            (CORRIDOR_ENVELOPE_NS, "corridor-envelope")])
def test_envelopes_carry_header_and_document(ns: str, wrapper: str) -> None:
    ing = ok(f'<Envelope xmlns="{ns}">{HEADER}{PACS008}</Envelope>').value
    assert ing.identified.wrapper == wrapper
    assert ing.biz_svc == "swift.cbprplus.02"
    assert ing.identified.header_text("BizMsgIdr") == "B1"
    assert ing.uetr == UETR


def test_header_alone_is_identified() -> None:
    ing = ok(HEADER).value
    assert ing.identified.document is None
    assert ing.message_id == "head.001.001.02"


def test_header_that_disagrees_with_document_is_rejected() -> None:
    hdr = HEADER.replace("pacs.008.001.08", "pacs.009.001.08")
    r = rejected(f'<Envelope xmlns="{SWIFT_ENVELOPE_NS}">{hdr}{PACS008}</Envelope>')
    assert "does not match" in r.text


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.99"><X/></Document>',
         "unsupported message namespace"),
        ('<Document><FIToFICstmrCdtTrf/></Document>', "unsupported message namespace (none)"),
        ('<Foo xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>', "unsupported root element"),
        ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FICdtTrf/></Document>',
         "must contain exactly one FIToFICstmrCdtTrf"),
        (f'<Envelope xmlns="{SWIFT_ENVELOPE_NS}">{HEADER}</Envelope>', "exactly one Document"),
        ('<AppHdr xmlns="urn:other"/>', "unsupported header namespace"),
    ],
)
def test_unsupported_messages_are_rejected(raw: str, fragment: str) -> None:
    r = rejected(raw)
    assert r.code == "FF01"
    assert fragment in r.text


def test_every_registered_message_has_its_namespace() -> None:
    for mid, m in BY_ID.items():
        assert m.namespace.endswith(mid)


@pytest.mark.shared
def test_published_samples_are_all_identified(shared_dir: Path) -> None:
    samples = sorted((shared_dir / "iso20022" / "samples").glob("*.xml"))
    assert len(samples) >= 10
    for f in samples:
        expected = f.name.split("__")[0]
        assert ok(f.read_bytes()).value.message_id == expected, f.name
