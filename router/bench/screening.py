"""Screening: names/s against a full list, recall and false positives, beside a full-scan baseline.

Builds a labelled set from the list's own names (typos, swapped tokens, dropped middle names,
spacing, case/diacritics/honorifics, Chinese characters for pinyin names, pinyin for
Chinese-script names) plus clean names from common first/last-name pools, screens all of it
with the blocking index, and screens a sample with a naive rapidfuzz full scan
(``process.extractOne`` with token_sort_ratio over every list name) for comparison.
Throughput is single-threaded, best of ``--repeat`` passes (the machine is shared). A pass over
names already screened meets the per-name caches (tokens, query form, readings) warm; the
``*_new_names`` figures empty those before every pass, as for names never seen before (the
per-token caches stay warm: tokens recur across names). The garbage collector is set as a
worker sets it once its lists are loaded (``router.heap.settle``: start-up's objects frozen, the
worker's first threshold), so that a pass does not walk the list index in every full collection,
which a worker never does; ``--gc-default`` keeps CPython's defaults.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from router import heap
from router.config import Settings
from router.screening.chinese_set import FORMS, ChineseItem, clean_items, listed_items
from router.screening.loaders import load_list
from router.screening.normalise import normalise
from router.screening.screener import Screener
from router.screening.settings import ScreeningSettings
from router.screening.variants import Labelled, labelled_set


def clear_name_caches(screener: Screener) -> None:
    """Empty every cache keyed by a whole name (or its token tuple) that the screening call fills
    (``lru_cache``s of more than 1,024 entries in the screening and transliteration modules), so
    that a pass costs what names never seen before cost. Caches keyed by one token (a word's
    syllables and its readings per scheme, the index's near spellings of a token) stay warm: new
    names are made of given names and surnames that recur. Tables loaded once (small caches) are kept."""
    import router.iso20022.transliterate
    import router.screening.chinese
    import router.screening.chinese_index
    import router.screening.index
    import router.screening.normalise
    import router.screening.screener

    per_token = {router.screening.chinese.segment, router.screening.chinese.token_readings}
    for module in (router.screening.normalise, router.screening.index, router.screening.screener,
                   router.screening.chinese, router.screening.chinese_index, router.iso20022.transliterate):
        for value in vars(module).values():
            info = getattr(value, "cache_info", None)
            if info is not None and (info().maxsize or 0) > 1024 and value not in per_token:
                value.cache_clear()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lists", nargs="+", type=Path, help="list file(s): e.g. the OFAC sdn.csv (alt/add siblings used)")
    p.add_argument("--entries", type=int, default=2000, help="list entries to derive variants from")
    p.add_argument("--clean", type=int, default=4000, help="clean names")
    p.add_argument("--baseline-sample", type=int, default=600, help="names screened by the full-scan baseline")
    p.add_argument("--repeat", type=int, default=5, help="timing passes (best is reported)")
    p.add_argument("--seed", type=int, default=20240503)
    p.add_argument("--gc-default", action="store_true",
                   help="keep CPython's collector settings instead of a worker's (router.heap.settle)")
    p.add_argument("--chinese-clean", type=int, default=5000,
                   help="clean Chinese names, each screened in characters, pinyin, Wade-Giles and Cantonese")
    p.add_argument("--peer", choices=("nomenklatura",), default=None,
                   help="also run OpenSanctions' matcher (the 'bench' extra) on the Chinese-name set")
    p.add_argument("--peer-clean", type=int, default=250,
                   help="clean Chinese names (in each form) for the peer, which compares pair by pair")


def _correct(screener: Screener, item: Labelled, hit_entries: set[int], names_of: dict[str, str]) -> bool:
    entries = screener.index.entries
    target = names_of[item.entry_uid or ""]
    # A variant is found when its source entry, or another listing of the very same name, is hit.
    return any(entries[i].uid == item.entry_uid or normalise(entries[i].name) == target for i in hit_entries)


def chinese_forms(screener: Screener, n_clean: int, seed: int, repeat: int) -> dict[str, Any]:
    """Every Chinese person on the lists and ``n_clean`` clean Chinese names, each in characters,
    pinyin, Wade-Giles and Cantonese: recall and false holds per form, auto-rejects on clean
    names (decided on the name alone, as ``router screen`` does), names/s."""
    listed = listed_items(screener.index.entries)
    clean, excluded = clean_items(random.Random(seed), n_clean, {n.sorted_text for n in screener.index.names})
    items = listed + clean
    best = float("inf")
    matches: list[list[Any]] = []
    for _ in range(max(1, repeat)):
        start = time.process_time()
        matches = [screener.screen_name(it.query) for it in items]
        best = min(best, time.process_time() - start)
    held = [(it, ms[0]) for it, ms in zip(items, matches, strict=True) if it.entry_uid is None and ms]
    return {"chinese_persons_with_characters": len({it.entry_uid for it in listed}),
            "clean_names": len(clean) // len(FORMS), "clean_excluded_as_namesakes": excluded,
            "names_per_cpu_s": round(len(items) / best), "by_form": _by_form(screener, items, matches),
            # Every clean name held, and why: what the false-hold rate is made of.
            "clean_held": [f"{it.form}: {it.query} ({it.han}) -> {m.matched} [{m.basis} {m.score:.2f}]"
                           for it, m in held]}


def _by_form(screener: Screener, items: list[ChineseItem], matches: list[list[Any]]) -> dict[str, dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for form in FORMS:
        got = [(it, ms) for it, ms in zip(items, matches, strict=True) if it.form == form]
        pos = [(it, ms) for it, ms in got if it.entry_uid is not None]
        neg = [ms for it, ms in got if it.entry_uid is None]
        per[form] = {
            "listed": len(pos),
            "recall": round(sum(any(m.entry == it.entry_uid for m in ms) for it, ms in pos) / max(1, len(pos)), 4),
            "clean": len(neg),
            "false_holds": round(sum(bool(ms) for ms in neg) / max(1, len(neg)), 4),
            "auto_rejects": sum(screener.outcome_of(ms) == "reject" for ms in neg),
        }
    return per


def peer_forms(screener: Screener, n_clean: int, seed: int) -> dict[str, Any]:
    """OpenSanctions' nomenklatura and this screener on the same items: every listed Chinese
    person in each form and a sample of ``n_clean`` clean names (``router.bench.peer``)."""
    from router.bench import peer

    listed = listed_items(screener.index.entries)
    clean, _ = clean_items(random.Random(seed + 2), n_clean, {n.sorted_text for n in screener.index.names})
    items = listed + clean
    ours = _by_form(screener, items, [screener.screen_name(it.query) for it in items])
    return {"nomenklatura": peer.run(screener.index.entries, items), "ours_same_items": ours}


def per_payment(screener: Screener, queries: list[str], repeat: int) -> dict[str, Any]:
    """Whole-payment screening (``screen_payment``: debtor, creditor, agents' BICs, countries,
    rules) on the example CIPS payment, its debtor and creditor renamed from the labelled names;
    CPU microseconds per payment, best of ``repeat`` passes."""
    import uuid
    from datetime import UTC, datetime
    from decimal import Decimal

    from router.corridor.screening_view import screening_request
    from router.iso20022.directory import load_directory
    from router.iso20022.examples import cips_pacs008
    from router.screening.decision import screen_payment

    template = screening_request(cips_pacs008(uetr=str(uuid.uuid4()), amount=Decimal("1000")), load_directory())
    assert template.debtor is not None and template.creditor is not None
    requests = [template.model_copy(update={
        "debtor": template.debtor.model_copy(update={"name": queries[i]}),
        "creditor": template.creditor.model_copy(update={"name": queries[(i * 7 + 3) % len(queries)]})})
        for i in range(min(len(queries), 3000))]
    now = datetime.now(UTC)
    best = float("inf")
    outcomes: Counter[str] = Counter()
    for _ in range(max(1, repeat)):
        start = time.process_time()
        outcomes = Counter(screen_payment(r, screener, (), now).outcome for r in requests)
        best = min(best, time.process_time() - start)
    return {"payments": len(requests), "cpu_us_per_payment": round(best / len(requests) * 1e6, 1),
            "outcomes": dict(sorted(outcomes.items()))}


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = ScreeningSettings()
    t0 = time.perf_counter()
    lists = [load_list(p) for p in args.lists]
    t1 = time.perf_counter()
    screener = Screener(lists, settings)
    t2 = time.perf_counter()
    index = screener.index
    items, excluded = labelled_set(index.entries, index, n_entries=args.entries, n_clean=args.clean, seed=args.seed)
    random.Random(args.seed).shuffle(items)
    names_of = {e.uid: normalise(e.name) for e in index.entries}
    queries = [it.query for it in items]
    threshold = settings.hold_score
    if not args.gc_default:
        # What a worker does once start-up has built its lists (router.roles.payment_worker).
        heap.settle(Settings.model_fields["gc_gen0_threshold"].default)

    best = best_cpu = float("inf")
    results: list[set[int]] = []
    for _ in range(max(1, args.repeat)):
        start, cpu = time.perf_counter(), time.process_time()
        results = [{h.name.entry for h in index.search(q, min_score=threshold)} for q in queries]
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    # The full screening call (explained matches, dedupe per entry) on the same names.
    best_full = best_full_cpu = float("inf")
    for _ in range(max(1, args.repeat)):
        start, cpu = time.perf_counter(), time.process_time()
        for q in queries:
            screener.screen_name(q)
        best_full = min(best_full, time.perf_counter() - start)
        best_full_cpu = min(best_full_cpu, time.process_time() - cpu)
    # The same calls on names never seen before: the per-name caches emptied before each pass.
    new_cpu = new_full_cpu = float("inf")
    for _ in range(max(1, args.repeat)):
        clear_name_caches(screener)
        cpu = time.process_time()
        for q in queries:
            index.search(q, min_score=threshold)
        new_cpu = min(new_cpu, time.process_time() - cpu)
        clear_name_caches(screener)
        cpu = time.process_time()
        for q in queries:
            screener.screen_name(q)
        new_full_cpu = min(new_full_cpu, time.process_time() - cpu)

    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for it, hits in zip(items, results, strict=True):
        total[it.kind] += 1
        if it.kind == "clean":
            found[it.kind] += bool(hits)
        else:
            found[it.kind] += _correct(screener, it, hits, names_of)
    variants = sum(v for k, v in total.items() if k != "clean")
    recall = sum(v for k, v in found.items() if k != "clean") / max(1, variants)
    fpr = found["clean"] / max(1, total["clean"])

    # Naive baseline: rapidfuzz over every list name, same labelled items (a sample: it is slow).
    all_names = [n.sorted_text for n in index.names]
    owner = [n.entry for n in index.names]
    rng = random.Random(args.seed + 1)
    sample = rng.sample(items, min(args.baseline_sample, len(items)))
    start, base_cpu_start = time.perf_counter(), time.process_time()
    base_hits: list[set[int]] = []
    for it in sample:
        got = process.extract(normalise(it.query), all_names, scorer=fuzz.token_sort_ratio,
                              score_cutoff=threshold * 100, limit=5)
        base_hits.append({owner[j] for _, _, j in got})
    base_time = time.perf_counter() - start
    base_cpu = time.process_time() - base_cpu_start
    b_found: Counter[str] = Counter()
    b_total: Counter[str] = Counter()
    for it, hits in zip(sample, base_hits, strict=True):
        kind = "clean" if it.kind == "clean" else "variant"
        b_total[kind] += 1
        b_found[kind] += bool(hits) if kind == "clean" else _correct(screener, it, hits, names_of)
    # The index on the same sample, for a like-for-like recall comparison.
    s_found: Counter[str] = Counter()
    by_query = dict(zip(queries, results, strict=True))
    for it in sample:
        kind = "clean" if it.kind == "clean" else "variant"
        hits = by_query[it.query]
        s_found[kind] += bool(hits) if kind == "clean" else _correct(screener, it, hits, names_of)

    return {
        "lists": [v.label for v in screener.versions],
        "list_entries": len(index.entries),
        "list_names_indexed": len(index.names),
        "load_s": round(t1 - t0, 2),
        "index_build_s": round(t2 - t1, 2),
        "threshold": threshold,
        "labelled_names": len(items),
        "variants": variants,
        "clean": total["clean"],
        "clean_excluded_as_true_hits": excluded,
        "index_names_per_s": round(len(queries) / best),
        "index_names_per_cpu_s": round(len(queries) / best_cpu),
        "index_us_per_name": round(best / len(queries) * 1e6, 1),
        "screen_name_names_per_s": round(len(queries) / best_full),
        "screen_name_names_per_cpu_s": round(len(queries) / best_full_cpu),
        "index_names_per_cpu_s_new_names": round(len(queries) / new_cpu),
        "screen_name_names_per_cpu_s_new_names": round(len(queries) / new_full_cpu),
        "load_average": _load(),
        "gc": "CPython defaults" if args.gc_default else "a worker's (router.heap.settle)",
        "recall": round(recall, 4),
        "false_positive_rate": round(fpr, 4),
        "recall_by_kind": {k: round(found[k] / total[k], 4) for k in sorted(total) if k != "clean"},
        "count_by_kind": dict(sorted(total.items())),
        "baseline_full_scan": {
            "scorer": "rapidfuzz process.extract token_sort_ratio over all names",
            "sample": len(sample),
            "names_per_s": round(len(sample) / base_time, 1),
            "names_per_cpu_s": round(len(sample) / base_cpu, 1),
            "ms_per_name": round(base_time / len(sample) * 1000, 2),
            "recall": round(b_found["variant"] / max(1, b_total["variant"]), 4),
            "false_positive_rate": round(b_found["clean"] / max(1, b_total["clean"]), 4),
            "index_recall_same_sample": round(s_found["variant"] / max(1, b_total["variant"]), 4),
            "index_false_positive_rate_same_sample": round(s_found["clean"] / max(1, b_total["clean"]), 4),
        },
        # Real traffic is almost all clear: clean names are the typical payment, list variants the worst case.
        "per_payment_clean_names": per_payment(screener, [it.query for it in items if it.kind == "clean"],
                                               min(args.repeat, 3)),
        "per_payment_list_variants": per_payment(screener, [it.query for it in items if it.kind != "clean"],
                                                 min(args.repeat, 3)),
        "chinese_forms": chinese_forms(screener, args.chinese_clean, args.seed, min(args.repeat, 2)),
        **({"peer": peer_forms(screener, args.peer_clean, args.seed)} if args.peer else {}),
        "speedup_vs_baseline": round((len(queries) / best) / (len(sample) / base_time), 1),
        "speedup_vs_baseline_cpu": round((len(queries) / best_cpu) / (len(sample) / base_cpu), 1),
    }
