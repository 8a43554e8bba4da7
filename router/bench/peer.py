"""OpenSanctions' matcher (``nomenklatura``, the ``bench`` extra) on the Chinese-name set, beside ours.

nomenklatura scores one pair of entities at a time and has no in-memory search index, so every
query is compared with every Chinese person on the lists (the persons the labelled set is built
from, as followthemoney ``Person`` entities with their aliases). A query is held when some person
scores at least ``threshold`` (0.7, yente's default match threshold), and found when its own
listed person does. False holds are therefore counted against the Chinese persons only, which
can only flatter the peer. Its per-pair cost makes the full 20,000-query set impractical, so the
clean names are a sample (``--peer-clean``).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from typing import Any

from router.screening.chinese_set import FORMS, ChineseItem, is_chinese_person
from router.screening.model import ListEntry

THRESHOLD = 0.7


def available() -> bool:
    try:
        importlib.import_module("nomenklatura.matching")
    except ImportError:
        return False
    return True


def run(entries: Sequence[ListEntry], items: Sequence[ChineseItem], *, algorithm: str = "logic-v2",
        threshold: float = THRESHOLD) -> dict[str, Any]:
    if not available():
        return {"skipped": "nomenklatura is not installed (pip install '.[bench]')"}
    matching: Any = importlib.import_module("nomenklatura.matching")
    ftm: Any = importlib.import_module("followthemoney")
    algo = matching.get_algorithm(algorithm)
    config = algo.default_config()
    person = ftm.model.get("Person")

    def entity(ident: str, names: Sequence[str]) -> Any:
        # Entity ids must be unique: nomenklatura caches what it derives from a name per id.
        return ftm.StatementEntity.from_data(person, {"id": ident, "schema": "Person",
                                                      "properties": {"name": list(names)}})

    listed = [(e.uid, entity(f"list-{e.uid}", (e.name, *e.aliases))) for e in entries if is_chinese_person(e)]
    start = time.process_time()
    scored: list[dict[str, float]] = []
    for n, it in enumerate(items):
        q = entity(f"q-{n}", (it.query,))
        scored.append({uid: algo.compare(q, r, config).score for uid, r in listed})
    cpu = time.process_time() - start
    per: dict[str, dict[str, Any]] = {}
    for form in FORMS:
        got = [(it, s) for it, s in zip(items, scored, strict=True) if it.form == form]
        pos = [(it, s) for it, s in got if it.entry_uid is not None]
        neg = [s for it, s in got if it.entry_uid is None]
        per[form] = {
            "listed": len(pos),
            "recall": round(sum(s.get(it.entry_uid or "", 0.0) >= threshold for it, s in pos) / max(1, len(pos)), 4),
            "clean": len(neg),
            "false_holds": round(sum(max(s.values(), default=0.0) >= threshold for s in neg) / max(1, len(neg)), 4),
        }
    return {"algorithm": algorithm, "threshold": threshold, "list_persons": len(listed),
            "pairs_per_cpu_s": round(len(items) * len(listed) / max(cpu, 1e-9)),
            "names_per_cpu_s_against_chinese_persons_only": round(len(items) / max(cpu, 1e-9), 1), "by_form": per}
