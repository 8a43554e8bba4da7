"""Ingest: the first stage. Raw bytes in; a validated canonical message, or a reject and a reply.

Pure: no Kafka here. ``router.pipeline.intake`` runs it inside the corridor stage.

``ingest`` parses and identifies (hostile input, wrong namespace, oversize are refused here).
``ingest_message`` goes on, once per message: the source side's profile XSD, the canonical model,
the usage rules. A refusal carries the reject (for the DLQ) and the reply for the sender
(admi.002, or pacs.002 RJCT for a readable payment that breaks a rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from router.iso20022.inbound import PROFILE_OF_SIDE, STAGE_RULES, STAGE_SCHEMA, extract
from router.iso20022.model import CanonicalMessage, Payment, Side
from router.iso20022.parser import parse_xml
from router.iso20022.refusals import Reply, reply_for
from router.iso20022.registry import Identified, identify
from router.iso20022.rules import check
from router.iso20022.schemas import validate_schemas, with_lines
from router.outcome import FORMAT_ERROR, Ok, Reject, Result

_UETR_TAGS = ("{*}UETR", "{*}OrgnlUETR")


def _first_uetr(document: etree._Element) -> str | None:
    """The first UETR or OrgnlUETR in document order. ``iter`` with tag filters runs in lxml's C
    walk: 1.3 µs against 29 µs for the equivalent ``local-name()`` XPath."""
    for el in document.iter(*_UETR_TAGS):
        return (el.text or "").strip() or None
    return None


@dataclass(frozen=True, slots=True)
class Ingested:
    identified: Identified
    uetr: str | None
    biz_svc: str | None

    @property
    def message_id(self) -> str:
        return self.identified.message_id


def ingest(raw: bytes, *, max_bytes: int) -> Result[Ingested]:
    parsed = parse_xml(raw, max_bytes=max_bytes)
    if isinstance(parsed, Reject):
        return parsed
    found = identify(parsed.value)
    if isinstance(found, Reject):
        return found
    ident = found.value
    uetr: str | None = None
    if ident.document is not None:
        uetr = _first_uetr(ident.document)
    return Ok(Ingested(ident, uetr, ident.header_text("BizSvc")))


@dataclass(frozen=True, slots=True)
class Normalised:
    ingested: Ingested
    message: CanonicalMessage
    side: Side


@dataclass(frozen=True, slots=True)
class Refused:
    reject: Reject
    reply: Reply
    uetr: str | None = None  # when the refused message was readable enough to have one


def ingest_message(
    raw: bytes, *, side: Side, max_bytes: int, router_bic: str, now: datetime | None = None
) -> Ok[Normalised] | Refused:
    """Parse, identify, validate against ``side``'s profile and rules, normalise: once per message."""
    profile = PROFILE_OF_SIDE[side]
    first = ingest(raw, max_bytes=max_bytes)
    if isinstance(first, Reject):
        return Refused(first, reply_for(first, profile, router_bic=router_bic, now=now))
    ing = first.value
    ident = ing.identified
    issues = validate_schemas(ident, profile)
    if issues:
        rej = Reject(FORMAT_ERROR, "; ".join(str(i) for i in issues[:5]), STAGE_SCHEMA)
        return Refused(rej, reply_for(rej, profile, router_bic=router_bic, identified=ident, now=now), ing.uetr)
    model = extract(ident)
    if isinstance(model, Reject):
        return Refused(model, reply_for(model, profile, router_bic=router_bic, identified=ident, now=now),
                       ing.uetr)
    broken = check(model.value, profile)
    if broken:
        located = with_lines(ident, broken[:5])
        rej = Reject(broken[0].code, "; ".join(str(i) for i in located), STAGE_RULES)
        pay = model.value if isinstance(model.value, Payment) else None
        reply = reply_for(rej, profile, router_bic=router_bic, identified=ident, payment=pay, now=now)
        return Refused(rej, reply, ing.uetr)
    return Ok(Normalised(ing, model.value, side))
