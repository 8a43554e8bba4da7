"""The hardened parser refuses hostile and broken input with FF01 and never touches the disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.iso20022.parser import parse_xml
from router.outcome import Ok, Reject

LIMIT = 64 * 1024
GOOD = b'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:x"><a>1</a></Document>'


def reject_text(raw: bytes, limit: int = LIMIT) -> str:
    result = parse_xml(raw, max_bytes=limit)
    assert isinstance(result, Reject), f"expected a reject, got {result!r}"
    assert result.code == "FF01"
    return result.text


def test_well_formed_document_parses() -> None:
    result = parse_xml(GOOD, max_bytes=LIMIT)
    assert isinstance(result, Ok)
    assert result.value.findtext("{urn:x}a") == "1"


def test_xxe_reading_a_local_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    raw = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
           f"<Document>&x;</Document>").encode()
    assert "DOCTYPE" in reject_text(raw)


def test_billion_laughs_is_refused() -> None:
    ents = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    raw = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{ents}]><d>&l9;</d>'.encode()
    assert "DOCTYPE" in reject_text(raw)


def test_doctype_hidden_behind_whitespace_and_case_is_refused() -> None:
    assert "DOCTYPE" in reject_text(b'\n  <!doctype d SYSTEM "http://example.invalid/x.dtd"><d/>')


def test_oversize_is_refused_before_parsing() -> None:
    text = reject_text(b"<d>" + b"x" * 2000 + b"</d>", limit=1024)
    assert "exceeds the 1024-byte limit" in text


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "empty"),
        (b"<Document><a></Document>", "not well-formed"),
        (b"<Document", "not well-formed"),
        (b"just text", "not well-formed"),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><d>é</d>'.encode("latin-1"), "declared ISO-8859-1"),
        ('<d>x</d>'.encode("utf-16"), "UTF-8"),
        (b"<d>\xff\xfe bad utf8</d>", "not well-formed"),
    ],
)
def test_broken_input_is_refused_with_a_reason(raw: bytes, fragment: str) -> None:
    assert fragment in reject_text(raw)
