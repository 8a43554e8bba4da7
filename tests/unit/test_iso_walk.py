"""The spec-driven reader behind extraction: what it keeps, what it skips, how it fails."""

from __future__ import annotations

import pytest
from lxml import etree

from router.iso20022 import examples as ex
from router.iso20022.build import build_pacs008
from router.iso20022.directory import load_directory
from router.iso20022.inbound import extract
from router.iso20022.model import Payment
from router.iso20022.schemas import validate_schemas
from router.iso20022.translate import to_cbpr
from router.iso20022.walk import ANY, Amt, Out, Skipped, Spec, Sub, Texts, read_element
from router.outcome import Ok, Reject
from tests.unit.test_iso_build import _ident

NS = "urn:example"


def _read(xml: str, spec: dict) -> Out:  # type: ignore[type-arg]
    out: Out = {}
    read_element(etree.fromstring(f'<R xmlns="{NS}">{xml}</R>'), spec, out)
    return out


def test_first_occurrence_wins_and_text_is_stripped() -> None:
    assert _read("<A> one </A><A>two</A>", {"A": "a"}) == {"a": "one"}


def test_empty_and_blank_elements_count_as_absent() -> None:
    assert _read("<A/><B>   </B><S/>", {"A": "a", "B": "b", "S": Sub("s", {"X": "x"})}) == {}


def test_unknown_elements_are_skipped_and_groups_flatten() -> None:
    out = _read("<Unknown><A>1</A></Unknown><G><A>2</A><H><B>3</B></H></G>", {"G": {"A": "a", "H": {"B": "b"}}})
    assert out == {"a": "2", "b": "3"}


def test_sub_fix_many_amounts_and_texts() -> None:
    spec = {"P": Sub("parties", {"N": "name"}, lambda d: d if d.get("name") != "skip" else None, many=True),
            "Amt": Amt("amount", "ccy"), "L": Texts("lines")}
    out = _read('<P><N>x</N></P><P><N>skip</N></P><P><N>y</N></P><Amt Ccy=" EUR ">1.50</Amt><L>a</L><L/>', spec)
    assert out == {"parties": [{"name": "x"}, {"name": "y"}], "amount": "1.50", "ccy": "EUR", "lines": ["a", ""]}


def test_specs_follow_the_namespace_of_what_they_read() -> None:
    spec: Spec = {"A": "a"}
    for ns in ("urn:one", "urn:two"):
        out: Out = {}
        read_element(etree.fromstring(f'<R xmlns="{ns}"><A>{ns}</A></R>'), spec, out)
        assert out == {"a": ns}


def _extract(raw: bytes) -> Ok | Reject:  # type: ignore[type-arg]
    return extract(_ident(raw))


@pytest.mark.parametrize(("remove", "says"), [
    (b"<UETR>5c3b4a1e-9d2f-4c8b-a7e6-1f0d2c3b4a59</UETR>", "PmtId/UETR is missing"),
    (b"<MsgId>CIPS0000000001</MsgId>", "GrpHdr/MsgId is missing"),
])
def test_a_missing_mandatory_element_is_named(remove: bytes, says: str) -> None:
    raw = build_pacs008(ex.cips_pacs008(), "cips")
    assert remove in raw
    found = _extract(raw.replace(remove, b"", 1))
    assert isinstance(found, Reject) and found.stage == "extract" and says in found.text


def test_a_malformed_value_is_refused_not_crashed() -> None:
    raw = build_pacs008(ex.cips_pacs008(), "cips").replace(b">125000.00<", b">12x5<")
    found = _extract(raw)
    assert isinstance(found, Reject) and "IntrBkSttlmAmt: Input should be a valid decimal" in found.text


def test_children_a_spec_does_not_read_can_be_listed() -> None:
    spec = {"A": "a", "G": {"B": "b", ANY: Skipped("skipped", "G/")}, ANY: Skipped("skipped")}
    assert _read("<A>1</A><X/><G><B>2</B><Y>3</Y></G><Z><A>4</A></Z>", spec) == {
        "a": "1", "b": "2", "skipped": ["X", "G/Y", "Z"]}


def test_what_a_payment_carries_beyond_the_model_is_named_not_lost() -> None:
    raw = build_pacs008(ex.cips_pacs008(), "cips")
    raw = raw.replace(b"<RmtInf>", b"<RgltryRptg><Dtls><Cd>121010</Cd></Dtls></RgltryRptg><RmtInf>")
    raw = raw.replace(b"</Ustrd></RmtInf>", b"</Ustrd><Strd><AddtlRmtInf>INV 42</AddtlRmtInf></Strd></RmtInf>")
    ident = _ident(raw)
    assert validate_schemas(ident, "cips") == []
    found = extract(ident)
    assert isinstance(found, Ok) and isinstance(found.value, Payment)
    assert found.value.not_carried == ("RgltryRptg", "RmtInf/Strd")
    plain = _extract(build_pacs008(ex.cips_pacs008(), "cips"))
    assert isinstance(plain, Ok) and plain.value.not_carried == ()
    out = to_cbpr(found.value, load_directory())
    assert isinstance(out, Ok)
    dropped = {c.field: c.why for c in out.value.changes if c.after is None}
    assert set(dropped) == {"CdtTrfTxInf/RgltryRptg", "CdtTrfTxInf/RmtInf/Strd"}
    assert all("not carried" in why for why in dropped.values())
