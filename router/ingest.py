"""Ingest: the first stage. Raw bytes in; an identified ISO 20022 message or a reject out.

Pure: no Kafka here. The agent in ``router.pipeline.ingest_agent`` wires it to topics.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from router.iso20022.parser import parse_xml
from router.iso20022.registry import Identified, identify
from router.outcome import Ok, Outcome, Reject

_UETR = etree.XPath("(.//*[local-name()='UETR' or local-name()='OrgnlUETR'])[1]/text()")


@dataclass(frozen=True, slots=True)
class Ingested:
    identified: Identified
    uetr: str | None
    biz_svc: str | None

    @property
    def message_id(self) -> str:
        return self.identified.message_id


def ingest(raw: bytes, *, max_bytes: int) -> Outcome[Ingested]:
    parsed = parse_xml(raw, max_bytes=max_bytes)
    if isinstance(parsed, Reject):
        return parsed
    found = identify(parsed.value)
    if isinstance(found, Reject):
        return found
    ident = found.value
    uetr: str | None = None
    if ident.document is not None:
        hits = _UETR(ident.document)
        if isinstance(hits, list) and hits:
            uetr = str(hits[0]).strip() or None
    return Ok(Ingested(ident, uetr, ident.header_text("BizSvc")))
