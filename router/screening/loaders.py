"""Loaders for the published sanctions list formats.

- OFAC legacy CSV set: ``sdn.csv`` (+ ``add.csv``, ``alt.csv``, ``sdn_comments.csv`` siblings).
  No header row, ``-0-`` for null, CRLF, a trailing 0x1A byte. The CSV carries no date.
- OFAC ``sdnList`` XML (SDN.XML and the consolidated non-SDN list): ``publshInformation``
  holds ``Publish_Date`` (MM/DD/YYYY) and ``Record_Count``.
- UN Security Council consolidated list XML (``CONSOLIDATED_LIST dateGenerated=...``).

XML goes through an lxml parser with the same hardening as ``router/iso20022/parser.py`` (no
DTD, no entities, no network). These files are far bigger than the per-message cap, so the cap
here is a separate, generous one, and ``huge_tree`` stays off (no single text node is large).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from lxml import etree

from router.screening.identifiers import country_code, from_ofac_remarks, id_key
from router.screening.model import Identifiers, ListEntry, ListVersion, SanctionsList

MAX_LIST_BYTES = 512 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_BIC = re.compile(r"SWIFT/BIC\s+([A-Z]{6}[A-Z2-9][A-NP-Z0-9](?:[A-Z0-9]{3})?)\b")
_OFAC_NULL = "-0-"
# An OFAC-layout CSV set in a folder named "demo" is the shipped fictional list: its decisions
# must never read as OFAC's, and its entry numbers must not be taken for real SDN entries.
DEMO_SOURCE = "DEMO"


class ListFormatError(ValueError):
    """The file is not one of the supported list formats, or is malformed."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)


def _parse_xml(raw: bytes) -> etree._Element:
    if _DOCTYPE.search(raw[:4096]):
        raise ListFormatError("DOCTYPE declarations are not allowed in list files")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise ListFormatError(f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise ListFormatError("DOCTYPE declarations are not allowed in list files")
    return root


def _date_from_path(path: Path) -> date | None:
    for part in (path.name, path.parent.name):
        m = _DATE_IN_NAME.search(part)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
    return None


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_LIST_BYTES:
        raise ListFormatError(f"{path}: {size} bytes exceeds the {MAX_LIST_BYTES}-byte list limit")
    return path.read_bytes()


def _decode(raw: bytes) -> str:
    raw = raw.rstrip(b"\x1a\r\n ")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # the legacy OFAC files are Windows-1252


def _csv_rows(raw: bytes) -> list[list[str]]:
    text = _decode(raw).replace("\x1a", "")
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip():
            continue
        rows.append([c.strip() if c.strip() != _OFAC_NULL else "" for c in row])
    return rows


def _ofac_csv_name(name: str) -> str:
    return name.strip()


def load_ofac_csv(sdn_path: Path) -> SanctionsList:
    """The OFAC CSV set; ``add.csv`` / ``alt.csv`` / ``sdn_comments.csv`` next to it are optional."""
    raw = _read(sdn_path)
    digest = hashlib.sha256(raw)
    rows = _csv_rows(raw)
    siblings: dict[str, list[list[str]]] = {}
    for kind in ("add", "alt", "sdn_comments"):
        p = sdn_path.with_name(f"{kind}{sdn_path.suffix}")
        if p.exists():
            sraw = _read(p)
            digest.update(sraw)
            siblings[kind] = _csv_rows(sraw)
    aliases: dict[str, list[str]] = defaultdict(list)
    for r in siblings.get("alt", []):
        if len(r) >= 4 and r[3]:
            aliases[r[0]].append(r[3])
    countries: dict[str, list[str]] = defaultdict(list)
    for r in siblings.get("add", []):
        if len(r) >= 5:
            cc = country_code(r[4])
            if cc:
                countries[r[0]].append(cc)
    comments = {r[0]: r[1] for r in siblings.get("sdn_comments", []) if len(r) >= 2}
    entries = []
    for r in rows:
        if len(r) < 4 or not r[0].isdigit():
            raise ListFormatError(f"{sdn_path}: not an OFAC sdn.csv row: {r[:3]!r}")
        remarks = (r[11] if len(r) > 11 else "") + " " + comments.get(r[0], "")
        entries.append(ListEntry(
            uid=r[0], name=_ofac_csv_name(r[1]), kind=(r[2] or "entity").lower(),
            aliases=tuple(aliases.get(r[0], ())), bics=tuple(dict.fromkeys(_BIC.findall(remarks))),
            countries=tuple(dict.fromkeys(countries.get(r[0], ()))), programs=tuple(p for p in r[3].split("] [") if p),
            identifiers=from_ofac_remarks(remarks),
        ))
    published = _date_from_path(sdn_path)
    version = ListVersion(
        source=DEMO_SOURCE if sdn_path.parent.name.lower() == "demo" else "OFAC-SDN",
        published=published or _mtime_date(sdn_path),
        published_from="path" if published else "file-mtime", entries=len(entries),
        sha256=digest.hexdigest(), path=str(sdn_path),
    )
    return SanctionsList(version, tuple(entries))


def _mtime_date(path: Path) -> date:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date()


def _text(el: etree._Element | None, tag: str, ns: dict[str, str] | None = None) -> str:
    if el is None:
        return ""
    t = el.findtext(tag, namespaces=ns)
    return (t or "").strip()


def _ofac_xml_name(el: etree._Element, ns: dict[str, str]) -> str:
    first, last = _text(el, "o:firstName", ns), _text(el, "o:lastName", ns)
    return f"{last}, {first}" if first and last else (last or first)


def load_ofac_xml(path: Path, raw: bytes | None = None) -> SanctionsList:
    raw = raw if raw is not None else _read(path)
    root = _parse_xml(raw)
    ns = {"o": root.nsmap.get(None) or ""}
    if etree.QName(root).localname != "sdnList":
        raise ListFormatError(f"{path}: root is not sdnList")
    pub = _text(root.find("o:publshInformation", ns), "o:Publish_Date", ns)
    published: date | None = None
    if pub:
        try:
            published = datetime.strptime(pub, "%m/%d/%Y").replace(tzinfo=UTC).date()
        except ValueError:
            published = None
    entries = []
    for e in root.iterfind("o:sdnEntry", ns):
        aliases = tuple(n for a in e.iterfind("o:akaList/o:aka", ns) if (n := _ofac_xml_name(a, ns)))
        countries = [c for a in e.iterfind("o:addressList/o:address", ns)
                     if (c := country_code(_text(a, "o:country", ns)))]
        countries += [c for n in e.iterfind("o:nationalityList/o:nationality", ns)
                      if (c := country_code(_text(n, "o:country", ns)))]
        bics = [_text(i, "o:idNumber", ns).upper() for i in e.iterfind("o:idList/o:id", ns)
                if "SWIFT" in _text(i, "o:idType", ns).upper()]
        entries.append(ListEntry(
            uid=_text(e, "o:uid", ns), name=_ofac_xml_name(e, ns), kind=_text(e, "o:sdnType", ns).lower() or "entity",
            aliases=aliases, bics=tuple(dict.fromkeys(b for b in bics if b)), countries=tuple(dict.fromkeys(countries)),
            programs=tuple(p.text.strip() for p in e.iterfind("o:programList/o:program", ns) if p.text),
            identifiers=_ofac_xml_identifiers(e, ns),
        ))
    lower = path.name.lower()
    source = "OFAC-SDN" if "sdn" in lower and "consolidated" not in lower else "OFAC-CONSOLIDATED"
    version = ListVersion(source=source, published=published, published_from="list" if published else "unknown",
                          entries=len(entries), sha256=hashlib.sha256(raw).hexdigest(), path=str(path))
    return SanctionsList(version, tuple(entries))


def _ofac_xml_identifiers(e: etree._Element, ns: dict[str, str]) -> Identifiers:
    dobs = []
    for d in e.iterfind("o:dateOfBirthList/o:dateOfBirthItem", ns):
        text = _text(d, "o:dateOfBirth", ns)
        for fmt in ("%d %b %Y", "%Y"):
            try:
                parsed = datetime.strptime(text, fmt).replace(tzinfo=UTC).date()
            except ValueError:
                continue
            dobs.append(parsed.isoformat() if fmt != "%Y" else str(parsed.year))
            break
    places = [p for d in e.iterfind("o:placeOfBirthList/o:placeOfBirthItem", ns)
              if (p := _text(d, "o:placeOfBirth", ns))]
    nats = [c for n in e.iterfind("o:nationalityList/o:nationality", ns)
            if (c := country_code(_text(n, "o:country", ns)))]
    ids = [id_key(_text(i, "o:idNumber", ns)) for i in e.iterfind("o:idList/o:id", ns)
           if "SWIFT" not in _text(i, "o:idType", ns).upper()]
    return Identifiers(tuple(dict.fromkeys(dobs)), tuple(dict.fromkeys(places)), tuple(dict.fromkeys(nats)),
                       tuple(dict.fromkeys(i for i in ids if len(i) >= 4)))


def _un_identifiers(e: etree._Element) -> Identifiers:
    dobs: list[str] = []
    for d in e.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
        if (full := _text(d, "DATE")):
            dobs.append(full[:10])
        elif (year := _text(d, "YEAR")).isdigit():
            dobs.append(year)
        elif (lo := _text(d, "FROM_YEAR")).isdigit() and (hi := _text(d, "TO_YEAR")).isdigit():
            dobs.extend(str(y) for y in range(int(lo), int(hi) + 1))
    places = [", ".join(x for x in (_text(p, "CITY"), _text(p, "STATE_PROVINCE"), _text(p, "COUNTRY")) if x)
              for p in e.iterfind("INDIVIDUAL_PLACE_OF_BIRTH")]
    nats = [c for v in e.iterfind("NATIONALITY/VALUE") if (c := country_code(v.text))]
    ids = [id_key(_text(d, "NUMBER")) for d in e.iterfind("INDIVIDUAL_DOCUMENT")]
    return Identifiers(tuple(dict.fromkeys(dobs)), tuple(p for p in dict.fromkeys(places) if p),
                       tuple(dict.fromkeys(nats)), tuple(dict.fromkeys(i for i in ids if len(i) >= 4)))


def _un_name(el: etree._Element) -> str:
    parts = [_text(el, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    return " ".join(p for p in parts if p)


def load_un_xml(path: Path, raw: bytes | None = None) -> SanctionsList:
    raw = raw if raw is not None else _read(path)
    root = _parse_xml(raw)
    if root.tag != "CONSOLIDATED_LIST":
        raise ListFormatError(f"{path}: root is not CONSOLIDATED_LIST")
    generated = root.get("dateGenerated") or ""
    published: date | None = None
    if generated:
        try:
            published = datetime.fromisoformat(generated.replace("Z", "+00:00")).date()
        except ValueError:
            published = None
    entries = []
    for kind, tag, alias_tag, addr_tag in (("individual", "INDIVIDUALS/INDIVIDUAL", "INDIVIDUAL_ALIAS",
                                            "INDIVIDUAL_ADDRESS"),
                                           ("entity", "ENTITIES/ENTITY", "ENTITY_ALIAS", "ENTITY_ADDRESS")):
        for e in root.iterfind(tag):
            aliases = [_text(a, "ALIAS_NAME") for a in e.iterfind(alias_tag)]
            original = _text(e, "NAME_ORIGINAL_SCRIPT")
            if original:
                aliases.append(original)
            countries = [c for a in e.iterfind(addr_tag) if (c := country_code(_text(a, "COUNTRY")))]
            countries += [c for v in e.iterfind("NATIONALITY/VALUE") if (c := country_code(v.text))]
            entries.append(ListEntry(
                uid=_text(e, "REFERENCE_NUMBER") or _text(e, "DATAID"), name=_un_name(e), kind=kind,
                aliases=tuple(dict.fromkeys(a for a in aliases if a)), countries=tuple(dict.fromkeys(countries)),
                programs=(_text(e, "UN_LIST_TYPE"),), identifiers=_un_identifiers(e),
            ))
    version = ListVersion(source="UN-SC", published=published, published_from="list" if published else "unknown",
                          entries=len(entries), sha256=hashlib.sha256(raw).hexdigest(), path=str(path))
    return SanctionsList(version, tuple(entries))


def detect_format(path: Path, head: bytes) -> str:
    """"ofac-csv", "ofac-xml" or "un-xml", from the content (the extension only breaks ties)."""
    start = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if start.startswith(b"<"):
        if b"<sdnList" in head:
            return "ofac-xml"
        if b"<CONSOLIDATED_LIST" in head:
            return "un-xml"
        raise ListFormatError(f"{path}: XML, but neither an OFAC sdnList nor a UN CONSOLIDATED_LIST")
    if re.match(rb"^\d+,\d+,", start) or path.stem.lower() in ("add", "alt", "sdn_comments"):
        raise ListFormatError(f"{path}: an OFAC add/alt/comments file; pass the sdn.csv of the set")
    if re.match(rb'^\d+,"', start):
        return "ofac-csv"
    raise ListFormatError(f"{path}: unrecognised list format")


def load_list(path: Path) -> SanctionsList:
    """Load any supported list file, detected by content."""
    path = Path(path)
    if not path.is_file():
        raise ListFormatError(f"{path}: no such list file")
    with path.open("rb") as fh:
        head = fh.read(4096)
    fmt = detect_format(path, head)
    if fmt == "ofac-csv":
        return load_ofac_csv(path)
    if fmt == "ofac-xml":
        return load_ofac_xml(path)
    return load_un_xml(path)


def list_files_in(directory: Path) -> list[Path]:
    """The list files in a watched directory (OFAC sibling CSVs are loaded with their sdn.csv).

    Hidden files and folders are skipped (``router lists update`` builds a new version in one
    and renames it into place). Within a series of dated versions of one list (the same path
    apart from a YYYY-MM-DD date, e.g. ``ofac-sdn-2026-03-01/sdn.csv``), only the newest is
    loaded: older ones stay on disk as the record of what earlier decisions used.
    """
    if not directory.is_dir():
        return []
    newest: dict[str, tuple[str, Path]] = {}
    for p in sorted(directory.rglob("*")):
        rel = p.relative_to(directory)
        if not p.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() == ".xml" or (p.suffix.lower() == ".csv" and p.stem.lower() == "sdn"):
            text = rel.as_posix()
            series = _DATE_IN_NAME.sub("*", text)
            dated = m[0] if (m := _DATE_IN_NAME.search(text)) else ""
            if series not in newest or dated >= newest[series][0]:
                newest[series] = (dated, p)
    return sorted(p for _, p in newest.values())


def files_signature(paths: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """A cheap change detector for list files and their CSV siblings: (path, size, mtime_ns)."""
    sig = []
    for p in paths:
        group = [p]
        if p.suffix.lower() == ".csv":
            group += [p.with_name(f"{k}{p.suffix}") for k in ("add", "alt", "sdn_comments")]
        for q in group:
            try:
                st = q.stat()
            except OSError:
                continue
            sig.append((str(q), st.st_size, st.st_mtime_ns))
    return tuple(sig)
