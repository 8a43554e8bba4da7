"""ISO 20022 parse / validate / translate / serialise of a typical pacs.008, one core."""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime

from lxml import etree

from router.iso20022.build import build_message, build_pacs008
from router.iso20022.directory import Directory, load_directory
from router.iso20022.examples import cips_pacs008
from router.iso20022.inbound import extract
from router.iso20022.model import Payment
from router.iso20022.parser import parse_xml
from router.iso20022.registry import Identified, identify
from router.iso20022.rules import check
from router.iso20022.schemas import profile_schema
from router.iso20022.translate import to_cbpr
from router.outcome import Ok, Reject

MAX_BYTES = 256 * 1024


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--messages", type=int, default=5000, help="messages per timed run")
    p.add_argument("--repeat", type=int, default=5, help="timed runs; the best is reported")
    p.add_argument("--customers", type=int, default=2000,
                   help="distinct payers for the new-customers run (transliteration caches cleared)")


def _floor_path(raw: bytes, head_schema: etree.XMLSchema, schema: etree.XMLSchema) -> Identified:
    """Hardened parse, identify, XSD-validate header and document: the floor."""
    root = parse_xml(raw, max_bytes=MAX_BYTES)
    assert not isinstance(root, Reject)
    ident = identify(root.value)
    assert not isinstance(ident, Reject)
    i = ident.value
    assert i.header is not None and i.document is not None
    assert head_schema.validate(i.header) and schema.validate(i.document)
    return i


def _full_path(raw: bytes, head_schema: etree.XMLSchema, schema: etree.XMLSchema, directory: Directory,
               now: datetime) -> bytes:
    """The floor, then canonical model, usage rules, translation to CBPR+ and the envelope bytes."""
    model = extract(_floor_path(raw, head_schema, schema))
    assert not isinstance(model, Reject) and not check(model.value, "cips")
    out = to_cbpr(model.value, directory, now=now)
    assert not isinstance(out, Reject)
    return build_message(out.value.message, "cbpr")


def _best(fn: Callable[[], object], n: int, repeat: int) -> float:
    """Best CPU time of ``n`` calls over ``repeat`` runs, in seconds per call.

    CPU time of this process (one thread, so one core): on a shared machine wall time mostly
    measures the neighbours; the best of several runs is the least disturbed one.
    """
    for _ in range(min(n, 500)):  # warm caches (compiled schemas, transliteration, currency lookups)
        fn()
    best = float("inf")
    gc.collect()
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, time.process_time() - t0)
    return best / n


def run(args: argparse.Namespace) -> dict[str, object]:
    directory = load_directory()
    now = datetime(2026, 11, 2, 10, tzinfo=UTC)
    raw = build_pacs008(cips_pacs008(), "cips")
    schema = profile_schema("cips", "pacs.008.001.08")
    head_schema = profile_schema("cips", "head.001.001.02")

    def parsed() -> Identified:
        return _floor_path(raw, head_schema, schema)

    def full() -> bytes:
        return _full_path(raw, head_schema, schema, directory, now)

    ident = parsed()
    found = extract(ident)
    assert isinstance(found, Ok) and isinstance(found.value, Payment)
    model = found.value
    out = to_cbpr(model, directory, now=now)
    assert isinstance(out, Ok)
    translated = out.value
    header, document = ident.header, ident.document
    assert header is not None and document is not None
    n, rep = args.messages, args.repeat
    parts = {
        "xsd_validate": _best(lambda: (head_schema.validate(header), schema.validate(document)), n, rep),
        "extract_model": _best(lambda: extract(ident), n, rep),
        "usage_rules": _best(lambda: check(model, "cips"), n, rep),
        "translate_to_cbpr": _best(lambda: to_cbpr(model, directory, now=now), n, rep),
        "build_serialise": _best(lambda: build_message(translated.message, "cbpr"), n, rep),
    }
    t_floor = _best(parsed, n, rep)
    t_full = _best(full, n, rep)
    in_full = _in_full(raw, head_schema, schema, directory, now, n, rep)
    t_new = _new_customers(args.customers, directory, now, rep)
    return {
        "message": "pacs.008.001.08 CIPS -> CBPR+ (envelope + AppHdr)",
        "input_bytes": len(raw),
        "output_bytes": len(full()),
        "floor": "parse (hardened lxml) + identify + lxml XSD validate of AppHdr and Document",
        "full": "floor + canonical model + usage rules + translate to CBPR+ + build envelope bytes",
        "floor_us": round(t_floor * 1e6, 1),
        "floor_msgs_per_s": round(1 / t_floor),
        "full_us": round(t_full * 1e6, 1),
        "full_msgs_per_s": round(1 / t_full),
        "full_over_floor": round(t_full / t_floor, 2),
        "parts_us": {k: round(v * 1e6, 1) for k, v in parts.items()},
        "in_full_us": in_full,
        "new_customers": "full path over distinct payers whose names and addresses were never transliterated "
                         "before (the cold worst case; recurring customers hit the caches like the typical message)",
        "new_customers_us": round(t_new * 1e6, 1),
        "new_customers_msgs_per_s": round(1 / t_new),
    }


def _new_customers(count: int, directory: Directory, now: datetime, repeat: int) -> float:
    """CPU seconds per message of the full path over ``count`` distinct Chinese payers, with the
    transliteration and IBAN caches emptied before each run."""
    import random

    from connectors.population import chinese_address, chinese_person
    from router.iso20022 import rules
    from router.iso20022 import transliterate as tl

    rng = random.Random(7)
    base = cips_pacs008()
    messages = []
    for i in range(count):
        debtor = base.debtor.model_copy(update={"name": chinese_person(rng), "address": chinese_address(rng)}) \
            if base.debtor else None
        uetr = f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        messages.append(build_pacs008(base.model_copy(update={"debtor": debtor, "uetr": uetr}), "cips"))
    schema = profile_schema("cips", "pacs.008.001.08")
    head_schema = profile_schema("cips", "head.001.001.02")

    best = float("inf")
    for _ in range(repeat):
        for cache in (tl.person_name, tl.text, rules.iban_error):
            cache.cache_clear()
        gc.collect()
        t0 = time.process_time()
        for raw in messages:
            _full_path(raw, head_schema, schema, directory, now)
        best = min(best, time.process_time() - t0)
    return best / count


def _in_full(raw: bytes, head_schema: etree.XMLSchema, schema: etree.XMLSchema, directory: Directory,
             now: datetime, n: int, repeat: int) -> dict[str, float]:
    """Each step's share of the full path, timed inside it (the least disturbed of ``repeat`` runs).

    Steps cost more here than alone (~1.4x): alone, one step's code and data stay in the core's
    caches; in the full path seven steps take turns. Wall clock between steps (perf_counter);
    the sum is a little above ``full_us`` for the timer calls.
    """
    names = ("parse", "identify", "xsd_validate", "extract_model", "usage_rules", "translate_to_cbpr",
             "build_serialise")
    clock = time.perf_counter_ns
    best: list[int] | None = None
    for _ in range(repeat):
        spent = [0] * len(names)
        for _ in range(n):
            t0 = clock()
            root = parse_xml(raw, max_bytes=MAX_BYTES)
            t1 = clock()
            assert not isinstance(root, Reject)
            ident = identify(root.value)
            t2 = clock()
            assert not isinstance(ident, Reject)
            assert ident.value.header is not None and ident.value.document is not None
            assert head_schema.validate(ident.value.header) and schema.validate(ident.value.document)
            t3 = clock()
            model = extract(ident.value)
            t4 = clock()
            assert not isinstance(model, Reject) and not check(model.value, "cips")
            t5 = clock()
            out = to_cbpr(model.value, directory, now=now)
            t6 = clock()
            assert not isinstance(out, Reject)
            build_message(out.value.message, "cbpr")
            t7 = clock()
            for i, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6), (t6, t7))):
                spent[i] += b - a
        if best is None or sum(spent) < sum(best):
            best = spent
    assert best is not None
    return {name: round(t / n / 1000, 1) for name, t in zip(names, best, strict=True)}
