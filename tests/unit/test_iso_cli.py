"""``router validate``, ``router translate``, ``router inspect``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.cli import main
from router.config import get_settings
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.iso20022.parser import parse_xml
from router.iso20022.registry import identify
from router.iso20022.schemas import validate_schemas
from router.outcome import Ok

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "iso"


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ROUTER_ISO20022_XSD_DIR", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_validate_valid_files_prints_message_id_and_profile(capsys: pytest.CaptureFixture[str]) -> None:
    f1, f2 = GOLDEN / "pacs008_cips_to_cbpr.out.xml", GOLDEN / "camt056_cips_to_cbpr.out.xml"
    assert main(["validate", "--profile", "cbpr", str(f1), str(f2)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{f1}: valid (pacs.008.001.08, cbpr)", f"{f2}: valid (camt.056.001.08, cbpr)"]


def test_validate_reports_usage_rule_with_path_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Schema-valid CBPR+, but InstrId longer than 16 characters breaks a CBPR+ usage rule.
    raw = (GOLDEN / "pacs008_cips_to_cbpr.out.xml").read_text()
    f = tmp_path / "long_instr.xml"
    f.write_text(re.sub(r"<InstrId>[^<]*</InstrId>", "<InstrId>CIPS20261102ICBC0001</InstrId>", raw))
    assert main(["validate", "--profile", "cbpr", str(f)]) == 1
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{f}: invalid: /Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/InstrId (line ")
    assert "at most 16" in line


def test_validate_one_bad_file_makes_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<Document")
    assert main(["validate", "--profile", "cips", str(GOLDEN / "pacs008_cips_to_cbpr.in.xml"), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": valid (pacs.008.001.08, cips)")
    assert out[1].startswith(f"{bad}: invalid: /: not well-formed XML")


def test_validate_missing_file_is_invalid_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.xml")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_validate_base_without_xsd_dir_exits_2_and_says_how(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--profile", "base", str(GOLDEN / "pacs008_cips_to_cbpr.in.xml")]) == 2
    err = capsys.readouterr().err
    assert "ROUTER_ISO20022_XSD_DIR" in err and "iso20022.org" in err and "Traceback" not in err


@pytest.mark.shared
def test_validate_base_with_xsd_dir(iso_xsd_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ROUTER_ISO20022_XSD_DIR", str(iso_xsd_dir))
    f = GOLDEN / "pacs008_cips_to_cbpr.in.xml"
    assert main(["validate", "--profile", "base", str(f)]) == 0
    assert capsys.readouterr().out.strip() == f"{f}: valid (pacs.008.001.08, base)"


@pytest.mark.parametrize(("src", "to"), [("pacs008_cips_to_cbpr.in.xml", "cbpr"),
                                         ("pacs008_cbpr_to_cips.in.xml", "cips")])
def test_translate_prints_a_valid_envelope(src: str, to: str, capsys: pytest.CaptureFixture[bytes]) -> None:
    assert main(["translate", "--to", to, str(GOLDEN / src)]) == 0
    out, err = capsys.readouterr()
    parsed = parse_xml(out.encode() if isinstance(out, str) else out, max_bytes=1 << 20)
    assert isinstance(parsed, Ok)
    ident = identify(parsed.value)
    assert isinstance(ident, Ok) and ident.value.wrapper == "corridor-envelope"
    assert validate_schemas(ident.value, to) == []  # type: ignore[arg-type]
    assert "changed" in err  # the record of what translation changed


def test_translate_failure_exits_1_with_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = ex.cips_pacs008(debtor_agent="C5551234567")  # not in the participant directory
    f = tmp_path / "unknown.xml"
    f.write_bytes(build_message(unknown, "cips"))
    assert main(["translate", "--to", "cbpr", str(f)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "C5551234567 is not in the directory" in err


def test_inspect_prints_canonical_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(GOLDEN / "pacs008_cips_to_cbpr.in.xml")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "pacs.008"
    assert data["uetr"] == "5c3b4a1e-9d2f-4c8b-a7e6-1f0d2c3b4a59"
    assert data["settlement_amount"] == "125000.00" and data["currency"] == "CNY"
    assert data["debtor"]["name"] == "李芳卫"
    assert data["debtor_agent"]["cips_id"] == "C1021000012"


def test_inspect_unreadable_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.xml"
    f.write_text("<a/>")
    assert main(["inspect", str(f)]) == 1
    assert "unsupported root element" in capsys.readouterr().err


def test_translate_refuses_when_the_result_would_be_invalid(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # Translation carries the creditor IBAN unchanged; a bad checksum would make the CBPR+
    # message break a usage rule, so nothing is printed.
    p = ex.cips_pacs008(creditor_iban="DE89370400440532013001")
    f = tmp_path / "p.xml"
    f.write_bytes(build_message(p, "cips"))
    assert main(["translate", "--to", "cbpr", str(f)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "would be invalid" in err and "CdtrAcct/Id/IBAN" in err
