"""Builders: escaping, envelopes, amounts in minor units, and extract(build(m)) == m for every type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from router.iso20022 import examples as ex
from router.iso20022.build import build_admi002, build_message, build_pacs002, build_pacs008
from router.iso20022.inbound import extract
from router.iso20022.model import CanonicalMessage
from router.iso20022.parser import parse_xml
from router.iso20022.registry import CORRIDOR_ENVELOPE_NS, SWIFT_ENVELOPE_NS, Identified, identify
from router.iso20022.schemas import validate_schemas
from router.outcome import Ok


def _ident(raw: bytes) -> Identified:
    parsed = parse_xml(raw, max_bytes=1 << 20)
    assert isinstance(parsed, Ok)
    found = identify(parsed.value)
    assert isinstance(found, Ok)
    return found.value


def _models() -> list[tuple[CanonicalMessage, str]]:
    out: list[tuple[CanonicalMessage, str]] = [(ex.cips_pacs008(), "cips"), (ex.cips_pacs009(), "cips"),
                                               (ex.cbpr_pacs008(), "cbpr"), (ex.cbpr_pacs009(), "cbpr")]
    for side, prof in (("cips", "cips"), ("corr", "cbpr")):
        out += [(ex.status_report(side), prof), (ex.payment_return(side), prof), (ex.cancellation(side), prof),
                (ex.resolution(side), prof), (ex.notification(side), prof), (ex.message_reject(side), prof)]
    return out


@pytest.mark.parametrize(("model", "profile"), _models(), ids=lambda v: getattr(v, "kind", v))
def test_extract_of_build_is_the_model(model: CanonicalMessage, profile: str) -> None:
    found = extract(_ident(build_message(model, profile)))  # type: ignore[arg-type]
    assert isinstance(found, Ok) and found.value == model


def test_text_is_escaped_and_round_trips() -> None:
    p = ex.cbpr_pacs008()
    tricky = 'SMITH & SONS <UK> "LTD"'
    m = p.model_copy(update={"creditor": p.creditor.model_copy(update={"name": tricky})})  # type: ignore[union-attr]
    raw = build_pacs008(m, "cbpr")
    assert b"&amp;" in raw and b"&lt;UK&gt;" in raw
    ident = _ident(raw)
    assert validate_schemas(ident, "cbpr") == []
    found = extract(ident)
    assert isinstance(found, Ok) and found.value.creditor.name == tricky  # type: ignore[union-attr]


def test_characters_xml_cannot_carry_are_refused() -> None:
    p = ex.cbpr_pacs008()
    with pytest.raises(ValueError, match="XML cannot carry"):
        build_pacs008(p.model_copy(update={"remittance": ("BELL\x07",)}), "cbpr")


def test_amounts_carry_the_currency_minor_units() -> None:
    p = ex.cbpr_pacs008()
    raw = build_pacs008(p.model_copy(update={"settlement_amount": Decimal("8400"), "currency": "JPY"}), "cbpr")
    assert b'<IntrBkSttlmAmt Ccy="JPY">8400</IntrBkSttlmAmt>' in raw
    raw = build_pacs008(p.model_copy(update={"settlement_amount": Decimal("8400.5")}), "cbpr")
    assert b'<IntrBkSttlmAmt Ccy="CNY">8400.50</IntrBkSttlmAmt>' in raw


@pytest.mark.parametrize(("wrapper", "root_ns"), [("corridor", CORRIDOR_ENVELOPE_NS), ("swift", SWIFT_ENVELOPE_NS)])
def test_envelopes(wrapper: str, root_ns: str) -> None:
    raw = build_message(ex.cbpr_pacs008(), "cbpr", wrapper)  # type: ignore[arg-type]
    root = etree.fromstring(raw)
    assert etree.QName(root).namespace == root_ns
    assert [etree.QName(c).localname for c in root] == ["AppHdr", "Document"]
    assert (root.get("profile") == "cbpr") is (wrapper == "corridor")
    bare = etree.fromstring(build_message(ex.cbpr_pacs008(), "cbpr", "none"))
    assert etree.QName(bare).localname == "Document"


def test_pacs002_from_an_original_reference() -> None:
    raw = build_pacs002(ex.original_ref("corr"), "RJCT", "AM04", msg_id="STS1", reason_text="NO FUNDS")
    ident = _ident(raw)
    assert validate_schemas(ident, "cbpr") == []
    found = extract(ident)
    assert isinstance(found, Ok)
    assert (found.value.status, found.value.reason_code) == ("RJCT", "AM04")  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        build_pacs002(ex.original_ref("corr"))


def test_admi002_limits_lengths() -> None:
    raw = build_admi002("R" * 80, "FF01", description="x" * 1000, location="/Document", wrapper="none")
    ident = _ident(raw)
    assert validate_schemas(ident, "cbpr") == []
