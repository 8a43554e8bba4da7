"""``router screen``: JSON lines per name, lists from flags or settings, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from router.cli import main
from router.config import get_settings
from router.screening.settings import DEMO_LIST


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, object]], str]:
    get_settings.cache_clear()
    code = main(["screen", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_names_and_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = _run(capsys, "--name", "赵伟明", "--name", "Felix Mordant", "--name", "Jane Doe", "--json",
                         "--list", str(DEMO_LIST))
    assert code == 0 and [r["name"] for r in rows] == ["赵伟明", "Felix Mordant", "Jane Doe"]
    assert [r["outcome"] for r in rows] == ["reject", "hold", "clear"]
    m = rows[0]["matches"][0]  # type: ignore[index]
    assert m["list"] == "DEMO" and m["entry"] == "900001" and m["field"] == "name" and m["score"] == 1.0
    assert rows[2]["matches"] == []


def test_default_lists_are_the_shipped_real_snapshots(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = _run(capsys, "--name", "Aero-Caribbean", "--name", "赵伟明")
    assert code == 0
    assert rows[0]["matches"][0]["list"] == "OFAC-SDN" and rows[0]["matches"][0]["entry"] == "36"  # type: ignore[index]
    assert rows[1]["outcome"] == "clear"  # the fictional demo entries are not in production's lists
    labels = [str(v) for v in rows[0]["list_versions"]]  # type: ignore[union-attr]
    assert [v.split("#")[0] for v in labels] == ["OFAC-SDN@2021-07-07", "UN-SC@2026-02-27"]


def test_names_file_country_and_explicit_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Orla Vanterpool\n\nAcme Widgets\n", encoding="utf-8")
    un = tmp_path / "un.xml"
    un.write_text('<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:00Z">'
                  "<INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>ORLA</FIRST_NAME><SECOND_NAME>VANTERPOOL"
                  "</SECOND_NAME><REFERENCE_NUMBER>XXi.1</REFERENCE_NUMBER></INDIVIDUAL></INDIVIDUALS>"
                  "</CONSOLIDATED_LIST>", encoding="utf-8")
    code, rows, _ = _run(capsys, "--names-file", str(names), "--list", str(un), "--country", "IR", "--json")
    assert code == 0 and len(rows) == 2
    assert rows[0]["outcome"] == "reject"  # exact UN name
    fields = [m["field"] for m in rows[1]["matches"]]  # type: ignore[union-attr]
    assert rows[1]["outcome"] == "reject" and fields == ["country"]  # Iran is embargoed


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--name", "x", "--list", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such list file" in err and "Traceback" not in err
    code, _, err = _run(capsys, "--name", "x", "--country", "XX")
    assert code == 2 and "ISO 3166" in err
    code, _, err = _run(capsys, "--names-file", str(tmp_path / "nope.txt"))
    assert code == 2 and "cannot read" in err


@pytest.mark.shared
def test_sdn_csv_with_siblings(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sdn = shared_dir / "sanctions" / "ofac" / "sdn_2021-07-07" / "sdn.csv"
    code, rows, _ = _run(capsys, "--name", "Aero-Caribbean", "--name", "Ayman al Zawahiri", "--list", str(sdn))
    assert code == 0
    assert rows[0]["matches"][0]["entry"] == "36" and rows[0]["matches"][0]["field"] == "alias"  # type: ignore[index]
    assert rows[1]["outcome"] in ("hold", "reject")
