"""Golden files: every message type, both directions (CIPS -> CBPR+ and CBPR+ -> CIPS).

Each case has ``<name>.in.xml`` (what the sending side emits, built from an example model) and
``<name>.out.xml`` (what the router sends on after translation). Regenerate after an intended
change with ``UPDATE_GOLDEN=1 pytest tests/unit/test_iso_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.iso20022.directory import load_directory
from router.iso20022.inbound import normalise
from router.iso20022.model import CanonicalMessage, Profile
from router.iso20022.parser import parse_xml
from router.iso20022.registry import identify
from router.iso20022.translate import to_cbpr, to_cips
from router.outcome import Ok

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "iso"
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CASES: dict[str, tuple[Callable[[], CanonicalMessage], Profile]] = {
    "pacs008_cips_to_cbpr": (ex.cips_pacs008, "cips"),
    "pacs008_cbpr_to_cips": (ex.cbpr_pacs008, "cbpr"),
    "pacs009_cips_to_cbpr": (ex.cips_pacs009, "cips"),
    "pacs009_cbpr_to_cips": (ex.cbpr_pacs009, "cbpr"),
    "pacs002_cips_to_cbpr": (lambda: ex.status_report("cips", "RJCT", "AC04"), "cips"),
    "pacs002_cbpr_to_cips": (lambda: ex.status_report("corr"), "cbpr"),
    "pacs004_cips_to_cbpr": (lambda: ex.payment_return("cips"), "cips"),
    "pacs004_cbpr_to_cips": (lambda: ex.payment_return("corr"), "cbpr"),
    "camt056_cips_to_cbpr": (lambda: ex.cancellation("cips"), "cips"),
    "camt056_cbpr_to_cips": (lambda: ex.cancellation("corr"), "cbpr"),
    "camt029_cips_to_cbpr": (lambda: ex.resolution("cips"), "cips"),
    "camt029_cbpr_to_cips": (lambda: ex.resolution("corr"), "cbpr"),
    "camt054_cips_to_cbpr": (lambda: ex.notification("cips"), "cips"),
    "camt054_cbpr_to_cips": (lambda: ex.notification("corr"), "cbpr"),
    "admi002_cips_to_cbpr": (lambda: ex.message_reject("cips"), "cips"),
    "admi002_cbpr_to_cips": (lambda: ex.message_reject("corr"), "cbpr"),
}


def _pretty(raw: bytes) -> bytes:
    from lxml import etree

    return etree.tostring(etree.fromstring(raw), pretty_print=True, xml_declaration=True, encoding="UTF-8")


def _check(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.write_bytes(_pretty(actual))
    assert path.is_file(), f"{path} missing: run with UPDATE_GOLDEN=1"
    assert _pretty(actual) == path.read_bytes(), f"{path.name} differs from the golden file"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_translation(name: str) -> None:
    factory, source = CASES[name]
    built = build_message(factory(), source)
    _check(GOLDEN / f"{name}.in.xml", built)

    raw = (GOLDEN / f"{name}.in.xml").read_bytes()
    ident = identify(parse_xml(raw, max_bytes=1 << 20).value).value  # type: ignore[union-attr]
    model = normalise(ident, "cips" if source == "cips" else "corr")
    assert isinstance(model, Ok), model
    target: Profile = "cbpr" if source == "cips" else "cips"
    out = (to_cbpr if target == "cbpr" else to_cips)(model.value, load_directory(), now=NOW)
    assert isinstance(out, Ok), out
    _check(GOLDEN / f"{name}.out.xml", build_message(out.value.message, target))


def test_every_message_type_has_golden_files_both_ways() -> None:
    kinds = {n.split("_")[0] for n in CASES}
    assert kinds == {"pacs008", "pacs009", "pacs002", "pacs004", "camt056", "camt029", "camt054", "admi002"}
    for k in kinds:
        assert f"{k}_cips_to_cbpr" in CASES and f"{k}_cbpr_to_cips" in CASES
