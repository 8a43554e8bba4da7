"""Schema lookup and XSD validation with element paths and line numbers.

Profile schemas (``schemas/cips``, ``schemas/cbpr``) ship with the router; the official base
schemas are read from ``settings.iso20022_xsd_dir`` because ISO publishes them but they are not
redistributed here. Compiled schemas are cached: compiling costs milliseconds, validating a
parsed tree tens of microseconds.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

from lxml import etree

from router.iso20022.registry import CORRIDOR_ENVELOPE_NS, Identified

ValidationProfile = Literal["cips", "cbpr", "base"]
HEAD_ID = "head.001.001.02"

OBTAIN_BASE = (
    "the official ISO 20022 XSDs are needed for --profile base: download the message definitions "
    "(head.001.001.02, pacs.008.001.08, ...) free from https://www.iso20022.org/iso-20022-message-definitions "
    "and point ROUTER_ISO20022_XSD_DIR at the folder holding <message id>.xsd files"
)


def profile_dir() -> Path:
    """Where the corridor profile schemas are: the source tree, or the installed data files."""
    for cand in (Path(__file__).resolve().parents[2] / "schemas",
                 Path(sys.prefix) / "share" / "corridor-router" / "schemas"):
        if (cand / "cbpr" / f"{HEAD_ID}.xsd").is_file():
            return cand
    raise FileNotFoundError("corridor profile schemas not found (schemas/ beside the router package)")


def _compile(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


@lru_cache(maxsize=64)
def profile_schema(profile: Literal["cips", "cbpr"], msg_id: str) -> etree.XMLSchema:
    return _compile(profile_dir() / profile / f"{msg_id}.xsd")


@lru_cache(maxsize=1)
def envelope_schema() -> etree.XMLSchema:
    return _compile(profile_dir() / "envelope" / "envelope.001.xsd")


@lru_cache(maxsize=64)
def base_schema(xsd_dir: Path, msg_id: str) -> etree.XMLSchema:
    path = xsd_dir / f"{msg_id}.xsd"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; {OBTAIN_BASE}")
    return _compile(path)


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation error: where (element path, line) and why."""

    path: str
    reason: str
    line: int | None = None
    code: str = "FF01"  # ISO external status reason code for a pacs.002 / admi.002 answer

    def __str__(self) -> str:
        at = f" (line {self.line})" if self.line else ""
        return f"{self.path}{at}: {self.reason}"


def element_path(el: etree._Element, stop: etree._Element | None = None) -> str:
    """``/Document/FIToFICstmrCdtTrf/GrpHdr/MsgId``: local names, 1-based index where repeated.

    The path starts at ``stop`` (the Document or AppHdr inside an envelope) when given.
    """
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        if node is stop:
            break
        node = parent
    return "/" + "/".join(reversed(parts))


def _clean(message: str) -> str:
    # lxml names elements as {namespace}Local; the path already says where, keep the reason short.
    while "{urn:" in message:
        start = message.index("{urn:")
        end = message.find("}", start)
        if end < 0:
            break
        message = message[:start] + message[end + 1:]
    return message


_STEP = re.compile(r"^(?:[\w.-]+:)?([\w.-]+|\*)(\[\d+\])?$")


def _locate(el: etree._Element, path: str) -> str:
    # libxml2 reports a path from the validated element (the Document or AppHdr, even inside an
    # envelope): "/*/*[2]/..." or, for prefixed input, "/head:AppHdr/head:To/...". Re-find the
    # element namespace-blind and name it by local names.
    steps = path.split("/")[2:] if path.startswith("/") else []
    xp = ["."]
    for step in steps:
        m = _STEP.match(step)
        if m is None:
            return path or element_path(el, stop=el)
        name, index = m.groups()
        xp.append(("*" if name == "*" else f"*[local-name()='{name}']") + (index or ""))
    try:
        hits = el.xpath("/".join(xp))
    except etree.XPathError:
        hits = []
    if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element):
        return element_path(hits[0], stop=el)
    return path or element_path(el, stop=el)


def schema_issues(schema: etree.XMLSchema, el: etree._Element) -> list[Issue]:
    if schema.validate(el):
        return []
    issues = []
    for err in schema.error_log:  # type: ignore[attr-defined]
        where = _locate(el, err.path or "")
        issues.append(Issue(where, _clean(err.message), err.line or None))
    return issues


def validate_schemas(ident: Identified, profile: ValidationProfile, xsd_dir: Path | None = None) -> list[Issue]:
    """Validate header and document of ``ident`` against ``profile`` (or the official base XSDs)."""
    def pick(msg_id: str) -> etree.XMLSchema:
        if profile == "base":
            if xsd_dir is None:
                raise FileNotFoundError(OBTAIN_BASE)
            return base_schema(xsd_dir, msg_id)
        return profile_schema(profile, msg_id)

    issues: list[Issue] = []
    if ident.wrapper == "corridor-envelope" and ident.document is not None:
        env = ident.document.getparent()
        if env is not None and etree.QName(env).namespace == CORRIDOR_ENVELOPE_NS:
            issues += schema_issues(envelope_schema(), env)
    if ident.header is not None:
        issues += schema_issues(pick(HEAD_ID), ident.header)
    if ident.document is not None and ident.message is not None:
        issues += schema_issues(pick(ident.message.id), ident.document)
    return issues


def with_lines(ident: Identified, issues: list[Issue]) -> list[Issue]:
    """Give usage-rule issues (found on the model, so without a line) the line of their element.

    Only called once a message has failed, so the cost of walking the tree does not matter.
    """
    out = []
    for issue in issues:
        root = ident.header if issue.path.startswith("/AppHdr") else ident.document
        if issue.line is not None or root is None:
            out.append(issue)
            continue
        node = root
        for step in issue.path.strip("/").split("/")[1:]:
            name, _, index = step.partition("[")
            hits = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]
            pos = int(index.rstrip("]")) - 1 if index else 0
            if len(hits) <= pos:
                break
            node = hits[pos]
        line = node.sourceline
        out.append(replace(issue, line=line if isinstance(line, int) else None))
    return out
