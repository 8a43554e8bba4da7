"""Quality gate on the real OFAC SDN list: recall on realistic variants, false positives on
clean names, at the default threshold (a sample; the benchmark runs the full set)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from router.screening.loaders import load_list
from router.screening.normalise import normalise
from router.screening.screener import Screener
from router.screening.settings import ScreeningSettings
from router.screening.variants import labelled_set

pytestmark = pytest.mark.shared


def test_recall_and_false_positives_on_the_sdn_list(shared_dir: Path) -> None:
    lst = load_list(shared_dir / "sanctions" / "ofac" / "sdn_2021-07-07" / "sdn.csv")
    screener = Screener([lst], ScreeningSettings())
    idx = screener.index
    items, _ = labelled_set(idx.entries, idx, n_entries=400, n_clean=800, seed=7)
    name_of = {e.uid: normalise(e.name) for e in idx.entries}
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for it in items:
        matches = screener.screen_name(it.query)
        total[it.kind] += 1
        if it.kind == "clean":
            found[it.kind] += bool(matches)
        else:
            found[it.kind] += any(m.entry == it.entry_uid or normalise(m.entry_name) == name_of[it.entry_uid or ""]
                                  for m in matches)
    variants = sum(v for k, v in total.items() if k != "clean")
    recall = sum(v for k, v in found.items() if k != "clean") / variants
    assert total["chinese"] >= 20 and total["drop_middle"] >= 50 and total["spacing"] >= 100
    assert recall >= 0.95, (recall, found, total)
    assert found["chinese"] == total["chinese"]
    assert found["clean"] / total["clean"] <= 0.01, found["clean"]
