"""The one registry of message types the router speaks, identified by XML namespace.

Every inbound record is identified here and nowhere else: a bare ``Document``, a bare ``AppHdr``,
a SWIFT ``Envelope`` (``urn:swift:xsd:envelope``) or the corridor's own envelope holding a header
and a document. The header's ``MsgDefIdr`` must agree with the document's namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from router.outcome import FORMAT_ERROR, Ok, Reject, Result

STAGE = "identify"

ISO_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
HEAD_NS = ISO_PREFIX + "head.001.001.02"
SWIFT_ENVELOPE_NS = "urn:swift:xsd:envelope"
CORRIDOR_ENVELOPE_NS = "urn:corridor-router:xsd:envelope.001"
ENVELOPE_NAMESPACES = frozenset({SWIFT_ENVELOPE_NS, CORRIDOR_ENVELOPE_NS})
_MSG_DEF_TAG = f"{{{HEAD_NS}}}MsgDefIdr"


@dataclass(frozen=True, slots=True)
class MessageDef:
    id: str  # e.g. "pacs.008.001.08"
    root: str  # the message element directly under Document
    name: str

    @property
    def namespace(self) -> str:
        return ISO_PREFIX + self.id


MESSAGES: dict[str, MessageDef] = {
    m.namespace: m
    for m in (
        MessageDef("pacs.008.001.08", "FIToFICstmrCdtTrf", "FI to FI customer credit transfer"),
        MessageDef("pacs.009.001.08", "FICdtTrf", "FI credit transfer"),
        MessageDef("pacs.002.001.10", "FIToFIPmtStsRpt", "FI to FI payment status report"),
        MessageDef("pacs.004.001.09", "PmtRtr", "payment return"),
        MessageDef("camt.056.001.08", "FIToFIPmtCxlReq", "FI to FI payment cancellation request"),
        MessageDef("camt.029.001.09", "RsltnOfInvstgtn", "resolution of investigation"),
        MessageDef("camt.054.001.08", "BkToCstmrDbtCdtNtfctn", "bank to customer debit credit notification"),
        MessageDef("admi.002.001.01", "admi.002.001.01", "message reject"),
    )
}
BY_ID: dict[str, MessageDef] = {m.id: m for m in MESSAGES.values()}


@dataclass(frozen=True, slots=True)
class Identified:
    """What an inbound record holds. ``document`` is None for a header-only record."""

    message: MessageDef | None
    header: etree._Element | None
    document: etree._Element | None
    wrapper: str  # "document" | "header" | "swift-envelope" | "corridor-envelope"

    @property
    def message_id(self) -> str:
        return self.message.id if self.message else "head.001.001.02"

    def header_text(self, local_name: str) -> str | None:
        """Text of a direct child of the header (e.g. ``BizSvc``, ``BizMsgIdr``), if any."""
        if self.header is None:
            return None
        return self.header.findtext(f"{{{HEAD_NS}}}{local_name}")


def _split(el: etree._Element) -> tuple[str, str]:
    """(namespace, local name) of an element; ("", "") for a comment or processing instruction."""
    tag = el.tag
    if not isinstance(tag, str):
        return "", ""
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _ns(el: etree._Element) -> str:
    return _split(el)[0]


def _local(el: etree._Element) -> str:
    return _split(el)[1]


def identify(root: etree._Element) -> Result[Identified]:
    """Say which registered message ``root`` carries, or why it is not one we speak."""
    ns, local = _split(root)
    if ns in ENVELOPE_NAMESPACES:
        wrapper = "swift-envelope" if ns == SWIFT_ENVELOPE_NS else "corridor-envelope"
        children = [(c, _local(c)) for c in root]
        headers = [c for c, name in children if name == "AppHdr"]
        docs = [c for c, name in children if name == "Document"]
        if len(headers) > 1 or len(docs) != 1:
            return Reject(FORMAT_ERROR, "an envelope must hold at most one AppHdr and exactly one Document", STAGE)
        return _combine(headers[0] if headers else None, docs[0], wrapper)
    if local == "AppHdr":
        return _combine(root, None, "header")
    if local == "Document":
        return _combine(None, root, "document")
    return Reject(FORMAT_ERROR, f"unsupported root element {{{ns}}}{local}", STAGE)


def _combine(header: etree._Element | None, doc: etree._Element | None, wrapper: str) -> Result[Identified]:
    if header is not None and _ns(header) != HEAD_NS:
        return Reject(FORMAT_ERROR, f"unsupported header namespace {_ns(header) or '(none)'}", STAGE)
    message: MessageDef | None = None
    if doc is not None:
        message = MESSAGES.get(_ns(doc))
        if message is None:
            return Reject(FORMAT_ERROR, f"unsupported message namespace {_ns(doc) or '(none)'}", STAGE)
        body = [c for c in doc if isinstance(c.tag, str)]
        if len(body) != 1 or _local(body[0]) != message.root:
            return Reject(FORMAT_ERROR, f"{message.id} Document must contain exactly one {message.root}", STAGE)
    if header is not None and message is not None:
        declared = header.findtext(_MSG_DEF_TAG)
        if declared and declared.strip() != message.id:
            return Reject(
                FORMAT_ERROR, f"header MsgDefIdr {declared.strip()} does not match document {message.id}", STAGE
            )
    return Ok(Identified(message, header, doc, wrapper))
