"""Profile schemas: restrictions of the official messages; everything the router emits is valid
against its profile AND the official base schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from lxml import etree

from router.iso20022 import examples as ex
from router.iso20022.build import build_admi002, build_message
from router.iso20022.directory import load_directory
from router.iso20022.model import CanonicalMessage, Profile
from router.iso20022.parser import parse_xml
from router.iso20022.registry import BY_ID, Identified, identify
from router.iso20022.schemas import (
    HEAD_ID,
    envelope_schema,
    profile_dir,
    profile_schema,
    validate_schemas,
)
from router.iso20022.translate import to_cbpr, to_cips
from router.outcome import Ok

REPO = Path(__file__).resolve().parents[2]


def _ident(raw: bytes) -> Identified:
    parsed = parse_xml(raw, max_bytes=1 << 20)
    assert isinstance(parsed, Ok), parsed
    found = identify(parsed.value)
    assert isinstance(found, Ok), found
    return found.value


def _emitted() -> list[tuple[str, Profile, bytes]]:
    """Every message type the router emits, on both sides: built directly and after translation."""
    d = load_directory()
    out: list[tuple[str, Profile, bytes]] = []
    for side, prof in (("cips", "cips"), ("corr", "cbpr")):
        models: list[CanonicalMessage] = [
            ex.status_report(side), ex.status_report(side, "RJCT", "AM04"), ex.payment_return(side),
            ex.cancellation(side), ex.resolution(side), ex.notification(side), ex.message_reject(side),
        ]
        models += [ex.cips_pacs008(), ex.cips_pacs009(), ex.conditional_pacs008()] if side == "cips" else [
            ex.cbpr_pacs008(), ex.cbpr_pacs009()]
        for m in models:
            out.append((f"{m.kind}/{prof}", prof, build_message(m, prof)))  # type: ignore[arg-type]
            other: Profile = "cbpr" if prof == "cips" else "cips"
            t = (to_cbpr if other == "cbpr" else to_cips)(m, d)
            assert isinstance(t, Ok), (m.kind, t)
            out.append((f"{m.kind}/{prof}->{other}", other, build_message(t.value.message, other)))
    for prof in ("cips", "cbpr"):
        out.append((f"admi.002 bare/{prof}", prof, build_admi002("NOTAVAILABLE", "FF01", description="bad xml",
                                                                   profile=prof, wrapper="none")))  # type: ignore[arg-type]
    return out


EMITTED = _emitted()


@pytest.mark.parametrize(("name", "profile", "raw"), EMITTED, ids=[e[0] for e in EMITTED])
def test_emitted_message_is_valid_against_its_profile(name: str, profile: Profile, raw: bytes) -> None:
    assert validate_schemas(_ident(raw), profile) == []


@pytest.mark.shared
@pytest.mark.parametrize(("name", "profile", "raw"), EMITTED, ids=[e[0] for e in EMITTED])
def test_emitted_message_is_valid_against_official_base(name: str, profile: Profile, raw: bytes,
                                                        iso_xsd_dir: Path) -> None:
    assert validate_schemas(_ident(raw), "base", iso_xsd_dir) == []


def test_every_outbound_type_is_emitted() -> None:
    kinds = {n.split("/")[0].split(" ")[0] for n, _, _ in EMITTED}
    assert kinds == {"pacs.008", "pacs.009", "pacs.002", "pacs.004", "camt.056", "camt.029", "camt.054", "admi.002"}


def test_profiles_share_the_base_target_namespace() -> None:
    for prof in ("cips", "cbpr"):
        for msg_id in (*BY_ID, HEAD_ID):
            root = etree.parse(str(profile_dir() / prof / f"{msg_id}.xsd")).getroot()
            assert root.get("targetNamespace") == f"urn:iso:std:iso:20022:tech:xsd:{msg_id}"
            profile_schema(prof, msg_id)  # type: ignore[arg-type]  # compiles


def test_profiles_are_stricter_than_base() -> None:
    # The CIPS profile needs a purpose code and CLRG; this CBPR+ payment has neither.
    cbpr = build_message(ex.cbpr_pacs008().model_copy(update={"purpose": None}), "cbpr")
    issues = validate_schemas(_ident(cbpr), "cips")
    assert "/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd" in {i.path for i in issues}
    assert any(i.path.startswith("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf") and "Purp" in i.reason for i in issues)
    # The CBPR+ profile refuses Chinese script and the CIPS participant-id-only header.
    cips = build_message(ex.cips_pacs008(), "cips")
    reasons = " ".join(i.reason for i in validate_schemas(_ident(cips), "cbpr"))
    assert "pattern" in reasons and "BICFI" in reasons


def test_envelope_schema_requires_header_document_and_profile() -> None:
    good = etree.fromstring(build_message(ex.cbpr_pacs008(), "cbpr"))
    assert envelope_schema().validate(good)
    del good.attrib["profile"]
    assert not envelope_schema().validate(good)
    only_doc = etree.fromstring(build_message(ex.cbpr_pacs008(), "cbpr"))
    only_doc.remove(only_doc[0])
    assert not envelope_schema().validate(only_doc)


@pytest.mark.shared
def test_generator_reproduces_the_committed_profiles(iso_xsd_dir: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_profiles", REPO / "schemas" / "tools" / "gen_profiles.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    written = gen.generate(iso_xsd_dir, tmp_path)
    assert len(written) == 18
    for path in written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (REPO / "schemas" / rel).read_bytes(), f"{rel} is stale: regenerate"


def test_condition_block_round_trips_on_cips_and_is_forbidden_on_cbpr() -> None:
    from router.iso20022.inbound import normalise

    p = ex.conditional_pacs008()
    raw = build_message(p, "cips")
    got = normalise(_ident(raw), "cips")
    assert isinstance(got, Ok), got
    assert got.value.condition == p.condition
    # The CBPR+ profile refuses a pacs.008 that carries the block.
    block = raw[raw.index(b"<SplmtryData>"):raw.index(b"</SplmtryData>") + len(b"</SplmtryData>")]
    cbpr = build_message(ex.cbpr_pacs008(), "cbpr").replace(b"</CdtTrfTxInf>", block + b"</CdtTrfTxInf>")
    assert validate_schemas(_ident(build_message(ex.cbpr_pacs008(), "cbpr")), "cbpr") == []
    reasons = " ".join(i.reason for i in validate_schemas(_ident(cbpr), "cbpr"))
    assert "SplmtryData" in reasons
    t = to_cbpr(p, load_directory())
    assert isinstance(t, Ok)
    assert t.value.message.condition is None  # type: ignore[union-attr]
    assert b"SplmtryData" not in build_message(t.value.message, "cbpr")
    assert any(c.field.endswith("SplmtryData/Cond") for c in t.value.changes)


def test_unknown_supplementary_data_is_listed_as_not_carried() -> None:
    from router.iso20022.inbound import normalise

    raw = build_message(ex.conditional_pacs008(), "cips").replace(
        b'<Cond xmlns="urn:corridor-router:xsd:condition.001">', b'<Other xmlns="urn:x">').replace(
        b"</Cond>", b"</Other>")
    got = normalise(_ident(raw), "cips")
    assert isinstance(got, Ok), got
    assert got.value.condition is None and "SplmtryData" in got.value.not_carried
