"""``router validate``, ``router translate`` and ``router inspect``: ISO 20022 files from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from router.iso20022.parser import parse_xml
from router.iso20022.registry import Identified, identify
from router.outcome import Ok, Reject, Result

# Large enough for any real business message, small enough that junk is refused before parsing.
MAX_FILE_BYTES = 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = sub.add_parser("validate", help="validate ISO 20022 files against a profile or the official schemas")
    v.add_argument("--profile", choices=("cips", "cbpr", "base"), default="cbpr")
    v.add_argument("files", nargs="+", type=Path, metavar="FILE")
    v.set_defaults(func=_validate)
    t = sub.add_parser("translate", help="translate a payment message to the other side's profile")
    t.add_argument("--to", required=True, choices=("cbpr", "cips"), dest="to")
    t.add_argument("file", type=Path, metavar="FILE")
    t.set_defaults(func=_translate)
    i = sub.add_parser("inspect", help="print the canonical model of a message as JSON")
    i.add_argument("file", type=Path, metavar="FILE")
    i.set_defaults(func=_inspect)


def _load(path: Path) -> Result[Identified]:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return Reject("FF01", f"cannot read: {exc.strerror or exc}", "read")
    return _identify_bytes(raw)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def validate_file(path: Path, profile: str, xsd_dir: Path | None) -> tuple[bool, str]:
    """``(valid, line)`` for one file, as ``router validate`` prints it."""
    from router.iso20022.inbound import extract
    from router.iso20022.rules import check
    from router.iso20022.schemas import validate_schemas, with_lines

    try:
        found = _load(path)
        if isinstance(found, Reject):
            return False, f"{path}: invalid: /: {_one_line(found.text)}"
        ident = found.value
        issues = validate_schemas(ident, profile, xsd_dir)  # type: ignore[arg-type]
        if not issues and profile != "base" and ident.document is not None:
            model = extract(ident)
            if isinstance(model, Reject):
                return False, f"{path}: invalid: /Document: {_one_line(model.text)}"
            issues = check(model.value, profile)  # type: ignore[arg-type]
            issues = with_lines(ident, issues)
        if issues:
            detail = "; ".join(_one_line(str(i)) for i in issues)
            return False, f"{path}: invalid: {detail}"
        return True, f"{path}: valid ({ident.message_id}, {profile})"
    except FileNotFoundError:
        raise
    except Exception as exc:  # hostile input must never produce a traceback
        return False, f"{path}: invalid: /: {type(exc).__name__}: {_one_line(str(exc))}"


def _validate(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.config import get_settings
    from router.iso20022.schemas import OBTAIN_BASE

    xsd_dir: Path | None = None
    if args.profile == "base":
        xsd_dir = get_settings().iso20022_xsd_dir
        if xsd_dir is None or not xsd_dir.is_dir():
            raise CliError(f"ROUTER_ISO20022_XSD_DIR is not set to a directory; {OBTAIN_BASE}", 2)
    ok = True
    for f in args.files:
        try:
            valid, line = validate_file(f, args.profile, xsd_dir)
        except FileNotFoundError as exc:
            raise CliError(str(exc), 2) from None
        ok = ok and valid
        print(line)
    return 0 if ok else 1


def _model(path: Path) -> Result[object]:
    from router.iso20022.inbound import extract

    found = _load(path)
    if isinstance(found, Reject):
        return found
    try:
        return extract(found.value)  # type: ignore[return-value]
    except Exception as exc:
        return Reject("FF01", f"{type(exc).__name__}: {exc}", "extract")


def _translate(args: argparse.Namespace) -> int:
    from router.config import get_settings
    from router.iso20022.build import build_message
    from router.iso20022.directory import load_directory
    from router.iso20022.translate import to_cbpr, to_cips

    found = _model(args.file)
    if isinstance(found, Reject):
        print(f"router: {args.file}: cannot translate: {_one_line(found.text)}", file=sys.stderr)
        return 1
    fn = to_cbpr if args.to == "cbpr" else to_cips
    out = fn(found.value, load_directory(), router_bic=get_settings().router_bic)  # type: ignore[arg-type]
    if isinstance(out, Reject):
        print(f"router: {args.file}: cannot translate: {_one_line(out.text)}", file=sys.stderr)
        return 1
    try:
        raw = build_message(out.value.message, args.to)
    except ValueError as exc:
        print(f"router: {args.file}: cannot translate: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    # Never print an envelope the receiving side would refuse: check it as ingest would.
    problems = _output_problems(raw, args.to)
    if problems:
        print(f"router: {args.file}: cannot translate: the {args.to} message would be invalid: {problems}",
              file=sys.stderr)
        return 1
    sys.stdout.buffer.write(raw)
    sys.stdout.buffer.write(b"\n")
    for c in out.value.changes:
        print(f"changed {c.field}: {c.before!r} -> {c.after!r} ({c.why})", file=sys.stderr)
    return 0


def _output_problems(raw: bytes, profile: str) -> str:
    from router.iso20022.inbound import extract
    from router.iso20022.rules import check
    from router.iso20022.schemas import validate_schemas

    found = _identify_bytes(raw)
    if isinstance(found, Reject):
        return found.text
    issues = validate_schemas(found.value, profile)  # type: ignore[arg-type]
    if not issues:
        model = extract(found.value)
        if isinstance(model, Reject):
            return model.text
        issues = check(model.value, profile)  # type: ignore[arg-type]
    return "; ".join(_one_line(str(i)) for i in issues[:5])


def _identify_bytes(raw: bytes) -> Result[Identified]:
    parsed = parse_xml(raw, max_bytes=MAX_FILE_BYTES)
    if isinstance(parsed, Reject):
        return parsed
    return identify(parsed.value)


def _inspect(args: argparse.Namespace) -> int:
    found = _model(args.file)
    if isinstance(found, Reject):
        print(f"router: {args.file}: {_one_line(found.text)}", file=sys.stderr)
        return 1
    assert isinstance(found, Ok)
    print(found.value.model_dump_json(indent=2))  # type: ignore[attr-defined]
    return 0
