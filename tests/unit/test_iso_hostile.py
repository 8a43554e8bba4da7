"""Hostile files: a clean reject within a second, nothing read from disk, never a traceback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from router.cli import main
from router.cli.iso import validate_file
from router.ingest import Refused, ingest_message

PACS008_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
SECRET = "TOP-SECRET-7f3a9c"


def _hostile(tmp_path: Path) -> dict[str, bytes]:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    good = (Path(__file__).resolve().parents[1] / "golden" / "iso" / "pacs008_cips_to_cbpr.out.xml").read_bytes()
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return {
        "xxe": (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
                f'<Document xmlns="{PACS008_NS}">&x;</Document>').encode(),
        "xxe_parameter": (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>'
                          f'<Document xmlns="{PACS008_NS}"/>').encode(),
        "xinclude": (f'<Document xmlns="{PACS008_NS}" xmlns:xi="http://www.w3.org/2001/XInclude">'
                     f'<xi:include href="file://{secret}" parse="text"/></Document>').encode(),
        "billion_laughs": (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "ha">{laughs}]>'
                           f'<Document xmlns="{PACS008_NS}">&l9;</Document>').encode(),
        "junk_10mb": os.urandom(10 * 1024 * 1024),
        "wrong_namespace": b'<Document xmlns="urn:example:not-iso"><FIToFICstmrCdtTrf/></Document>',
        "truncated": good[: len(good) // 2],
        "utf16": good.decode().replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16"),
        "latin1_declared": good.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'"),
        "empty": b"",
        "not_xml": b"MT103 {1:F01BANKBEBBAXXX0000000000}",
    }


CASES = ["xxe", "xxe_parameter", "xinclude", "billion_laughs", "junk_10mb", "wrong_namespace", "truncated",
         "utf16", "latin1_declared", "empty", "not_xml"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("profile", ["cips", "cbpr"])
def test_validate_rejects_hostile_file_cleanly(tmp_path: Path, case: str, profile: str) -> None:
    f = tmp_path / f"{case}.xml"
    f.write_bytes(_hostile(tmp_path)[case])
    t0 = time.monotonic()
    valid, line = validate_file(f, profile, None)
    elapsed = time.monotonic() - t0
    assert not valid
    assert line.startswith(f"{f}: invalid: ")
    assert SECRET not in line
    assert "\n" not in line and "Traceback" not in line
    assert elapsed < 1.0, f"{case} took {elapsed:.2f}s"


def test_validate_cli_reports_each_hostile_file_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for case, raw in _hostile(tmp_path).items():
        f = tmp_path / f"{case}.xml"
        f.write_bytes(raw)
        files.append(str(f))
    assert main(["validate", "--profile", "cbpr", *files]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == len(files)
    assert all(": invalid: " in line for line in out.splitlines())
    assert SECRET not in out + err and "Traceback" not in out + err


@pytest.mark.parametrize("case", ["xxe", "billion_laughs", "wrong_namespace", "truncated", "utf16", "not_xml"])
def test_ingest_refuses_hostile_input_with_an_admi002_reply(tmp_path: Path, case: str) -> None:
    raw = _hostile(tmp_path)[case]
    out = ingest_message(raw, side="corr", max_bytes=256 * 1024, router_bic="ROUTCNSHXXX")
    assert isinstance(out, Refused)
    assert out.reject.code == "FF01"
    assert out.reply.message_id == "admi.002.001.01"
    assert b"admi.002.001.01" in out.reply.value and SECRET.encode() not in out.reply.value


def test_ingest_refuses_oversize_before_parsing() -> None:
    out = ingest_message(b"<" * (300 * 1024), side="cips", max_bytes=256 * 1024, router_bic="ROUTCNSHXXX")
    assert isinstance(out, Refused) and "exceeds" in out.reject.text
