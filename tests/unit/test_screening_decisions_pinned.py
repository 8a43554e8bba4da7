"""Screening decisions pinned on a sample, against the shipped real lists (OFAC SDN 2021 + UN).

Speed work on the matcher (``NameIndex``, ``ChineseIndex``, ``Screener.screen_name``) must not
move a single decision: every match (entry, score, basis, evidence) and every outcome of ~2,300
calls is compared with the recorded ones. The sample holds the benchmark's kinds of names: list
variants (typo, swap, spacing, dropped middle name, format, characters), clean names, every
listed Chinese person and clean Chinese names in characters, pinyin, Wade-Giles and Cantonese,
and a third of them again with a payment party (date of birth, countries, ID number) and an
original-script name. Order among equal scores and which alias of an entry is shown are not
pinned: they follow set iteration order, which changes with PYTHONHASHSEED.

The record was written by the code before issue 16's speed work. A deliberate change of
decisions rewrites it: ``PYTHONPATH=. python tests/unit/test_screening_decisions_pinned.py --write``
(and says why in the commit).
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from router.screening.chinese_set import clean_items, listed_items
from router.screening.loaders import load_list
from router.screening.model import Party
from router.screening.screener import Screener
from router.screening.settings import DEFAULT_LISTS, ScreeningSettings
from router.screening.variants import labelled_set

RECORD = Path(__file__).resolve().parents[1] / "golden" / "screening" / "decisions.json"
# Payment parties that move scores: an agreeing or contradicting date of birth, countries, an ID.
SUBJECTS = (
    {"birth_date": "1961-03-18", "country": "CN"},
    {"country": "IR", "id_numbers": ["D489833(9)"]},
    {"birth_date": "1970-01-01", "residence_country": "RU", "birth_place": "Beijing, China"},
)


def _screener() -> Screener:
    return Screener([load_list(p) for p in DEFAULT_LISTS], ScreeningSettings())


def _cases(screener: Screener) -> list[dict[str, Any]]:
    idx = screener.index
    items, _ = labelled_set(idx.entries, idx, n_entries=250, n_clean=250, seed=16)
    names = [it.query for it in items]
    listed = listed_items(idx.entries)
    clean, _ = clean_items(random.Random(16), 120, {n.sorted_text for n in idx.names})
    names += [it.query for it in listed + clean]
    cases: list[dict[str, Any]] = [{"name": n} for n in names]
    for i, n in enumerate(names[::3]):
        cases.append({"name": n, "original": names[(i * 7) % len(names)], "subject": SUBJECTS[i % len(SUBJECTS)]})
    return cases


def _decide(screener: Screener, case: dict[str, Any]) -> dict[str, Any]:
    subject = None
    if "subject" in case:
        s = dict(case["subject"])
        if "birth_date" in s:
            s["birth_date"] = date.fromisoformat(s["birth_date"])
        subject = Party(**s)
    ms = screener.screen_name(case["name"], original=case.get("original"), subject=subject, party="debtor")
    return {"matches": sorted([m.entry, m.list, m.score, m.name_score, m.basis, m.short,
                               m.name_size, list(m.evidence), m.agreed, m.contradicted, m.confirmed] for m in ms),
            "outcome": screener.outcome_of(ms)}


@pytest.fixture(scope="module")
def screener() -> Screener:
    return _screener()


def test_decisions_are_the_recorded_ones(screener: Screener) -> None:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert len(record) > 2000
    assert sum(bool(r["decision"]["matches"]) for r in record) > 1000  # most are list names
    assert {r["decision"]["outcome"] for r in record} == {"clear", "hold", "reject"}
    moved = [(r["case"], r["decision"], got) for r in record
             if (got := _decide(screener, r["case"])) != r["decision"]]
    assert not moved, f"{len(moved)} decisions moved, first: {moved[:3]}"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    s = _screener()
    out = [{"case": c, "decision": _decide(s, c)} for c in _cases(s)]
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in out)
    RECORD.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    print(f"{len(out)} decisions written to {RECORD}")
