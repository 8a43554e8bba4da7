"""Hardened XML parsing for everything the router receives.

ISO 20022 messages never need a DTD, entities, XInclude or network access, so the parser refuses
all of them: a DOCTYPE is rejected outright (that stops XXE and billion-laughs before any
entity is even declared), nothing is fetched, and the input size is capped before lxml sees a
byte. Only UTF-8 is accepted, as CBPR+ and the CIPS profile both require it.
"""

from __future__ import annotations

import re

from lxml import etree

from router.outcome import FORMAT_ERROR, Ok, Reject, Result

STAGE = "parse"

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_UTF8_NAMES = {b"utf-8", b"utf8"}


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


# lxml parsers are not thread-safe but are reusable within one thread; the router is asyncio.
_PARSER = _new_parser()


def parse_xml(raw: bytes, *, max_bytes: int) -> Result[etree._Element]:
    """Parse ``raw`` into an element tree root, or say why it cannot be accepted."""
    if len(raw) > max_bytes:
        return Reject(FORMAT_ERROR, f"message of {len(raw)} bytes exceeds the {max_bytes}-byte limit", STAGE)
    if not raw or raw.isspace():
        return Reject(FORMAT_ERROR, "empty message", STAGE)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:64]:
        return Reject(FORMAT_ERROR, "encoding must be UTF-8 (found UTF-16 or other wide encoding)", STAGE)
    decl = _XML_DECL.match(raw)
    if decl and decl.group(1).lower() not in _UTF8_NAMES:
        return Reject(FORMAT_ERROR, f"encoding must be UTF-8, declared {decl.group(1).decode('ascii')}", STAGE)
    if _DOCTYPE.search(raw):
        return Reject(FORMAT_ERROR, "DOCTYPE declarations are not allowed (entities, XXE)", STAGE)
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        return Reject(FORMAT_ERROR, f"not well-formed XML: {exc}", STAGE)
    except ValueError as exc:  # lxml raises ValueError for some encoding problems
        return Reject(FORMAT_ERROR, f"unreadable XML: {exc}", STAGE)
    if root.getroottree().docinfo.internalDTD is not None:
        return Reject(FORMAT_ERROR, "DOCTYPE declarations are not allowed (entities, XXE)", STAGE)
    return Ok(root)
