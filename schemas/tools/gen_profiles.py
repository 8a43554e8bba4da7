"""Generate the corridor's profile XSDs (CIPS and CBPR+) from the official ISO 20022 XSDs.

Usage: python schemas/tools/gen_profiles.py OFFICIAL_XSD_DIR [OUT_DIR]

Each profile schema is a copy of the official schema of the same message (same target
namespace) with restrictions applied: narrower cardinalities, enumerations and added
patterns. Every change only removes instances from the valid set, so a message valid against
a profile is valid against the base schema (tests/unit/test_iso_profiles.py checks the
product's output against both). The generated files are committed; run this again only when
the profile rules below change. The official XSDs themselves are not kept in this repository.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
NS = {"xs": XS}

MESSAGES = (
    "head.001.001.02", "pacs.008.001.08", "pacs.009.001.08", "pacs.002.001.10", "pacs.004.001.09",
    "camt.056.001.08", "camt.029.001.09", "camt.054.001.08", "admi.002.001.01",
)
PAYMENTS = ("pacs.008.001.08", "pacs.009.001.08")
ORIGINAL_REFS = ("pacs.002.001.10", "pacs.004.001.09", "camt.056.001.08")

# CBPR+ extended FIN-X character set (what the CBPR+ usage guidelines allow in text fields).
CBPR_TEXT = r"[0-9a-zA-Z/\-\?:\(\)\.,'\+ !#$%&\*=^_`\{\|\}~&quot;;&lt;&gt;@\[\\\]]+"

Op = Callable[[etree._Element], int]


def occurs(element: str, min_occurs: int | None = None, max_occurs: int | None = None,
           in_type: str | None = None) -> Op:
    def op(schema: etree._Element) -> int:
        scope = f"xs:complexType[@name='{in_type}']//" if in_type else "xs:complexType//"
        hits = schema.xpath(f"{scope}xs:element[@name='{element}']", namespaces=NS)
        for el in hits:
            if min_occurs is not None:
                el.set("minOccurs", str(min_occurs))
            if max_occurs is not None:
                el.set("maxOccurs", str(max_occurs))
        return len(hits)
    return op


def forbid(element: str, in_type: str | None = None) -> Op:
    """Remove an optional element (libxml2 does not enforce maxOccurs="0", so it is taken out)."""
    def op(schema: etree._Element) -> int:
        scope = f"xs:complexType[@name='{in_type}']//" if in_type else "xs:complexType//"
        hits = schema.xpath(f"{scope}xs:element[@name='{element}']", namespaces=NS)
        for el in hits:
            if el.get("minOccurs") != "0":
                raise SystemExit(f"cannot forbid mandatory element {element}")
            el.getparent().remove(el)
        return len(hits)
    return op


def enum(simple_type: str, allowed: tuple[str, ...]) -> Op:
    def op(schema: etree._Element) -> int:
        hits = schema.xpath(f"xs:simpleType[@name='{simple_type}']/xs:restriction", namespaces=NS)
        for r in hits:
            for e in r.findall(f"{{{XS}}}enumeration"):
                if e.get("value") not in allowed:
                    r.remove(e)
        return len(hits)
    return op


def text_pattern(regex: str) -> Op:
    def op(schema: etree._Element) -> int:
        hits = schema.xpath("xs:simpleType[starts-with(@name, 'Max') and contains(@name, 'Text')]"
                            "/xs:restriction[@base='xs:string']", namespaces=NS)
        for r in hits:
            if r.find(f"{{{XS}}}pattern") is None:
                etree.SubElement(r, f"{{{XS}}}pattern", value=regex.replace("&quot;", '"')
                                 .replace("&lt;", "<").replace("&gt;", ">"))
        return len(hits)
    return op


def rules(profile: str, msg: str) -> list[Op]:
    ops: list[Op] = []
    if msg in PAYMENTS:
        ops += [occurs("CdtTrfTxInf", max_occurs=1), occurs("UETR", min_occurs=1)]
    if msg in ORIGINAL_REFS:
        ops += [occurs("OrgnlUETR", min_occurs=1)]
    if msg in ("pacs.008.001.08", "pacs.004.001.09"):
        ops += [enum("ChargeBearerType1Code", ("DEBT", "CRED", "SHAR"))]
    if msg in ("pacs.004.001.09", "camt.056.001.08"):
        ops += [occurs("TxInf", max_occurs=1)]
    if msg == "pacs.008.001.08":
        if profile == "cbpr":
            # A programmable payment's condition is a CIPS-side feature: it never reaches CBPR+.
            ops += [forbid("SplmtryData")]
        else:
            # One SplmtryData per transaction, for the condition block (schemas/README.md).
            ops += [forbid("SplmtryData", in_type="FIToFICustomerCreditTransferV08"),
                    occurs("SplmtryData", max_occurs=1, in_type="CreditTransferTransaction39")]
    if profile == "cbpr":
        ops += [text_pattern(CBPR_TEXT)]
        if msg != "admi.002.001.01":
            ops += [occurs("TwnNm", 1, in_type="PostalAddress24"), occurs("Ctry", 1, in_type="PostalAddress24")]
        if msg in (*PAYMENTS, "pacs.004.001.09"):
            ops += [enum("SettlementMethod1Code", ("INDA", "INGA"))]
        if msg == "head.001.001.02":
            ops += [occurs("BICFI", 1, in_type="FinancialInstitutionIdentification18")]
    else:
        if msg != "admi.002.001.01":
            ops += [occurs("Ctry", 1, in_type="PostalAddress24")]
        if msg in (*PAYMENTS, "pacs.004.001.09"):
            ops += [enum("SettlementMethod1Code", ("CLRG",))]
        if msg in PAYMENTS:
            ops += [occurs("Purp", min_occurs=1)]
    return ops


def generate(xsd_dir: Path, out_dir: Path) -> list[Path]:
    written = []
    for profile, title in (("cips", "CIPS / e-CNY corridor profile"), ("cbpr", "CBPR+ corridor profile")):
        (out_dir / profile).mkdir(parents=True, exist_ok=True)
        for msg in MESSAGES:
            tree = etree.parse(str(xsd_dir / f"{msg}.xsd"), etree.XMLParser(remove_comments=True,
                                                                              resolve_entities=False))
            schema = tree.getroot()
            for op in rules(profile, msg):
                if op(schema) == 0:
                    raise SystemExit(f"{profile}/{msg}: a profile rule matched nothing")
            schema.insert(0, etree.Comment(
                f" {title} for {msg}: a restriction of the ISO 20022 message of the same namespace. "
                "Generated by schemas/tools/gen_profiles.py; do not edit by hand. "))
            etree.XMLSchema(tree)  # must compile
            path = out_dir / profile / f"{msg}.xsd"
            tree.write(str(path), xml_declaration=True, encoding="UTF-8")
            written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[1]
    for p in generate(Path(sys.argv[1]), out):
        print(p)
