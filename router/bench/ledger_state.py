"""The ledger shard's book in memory vs on disk, in-process: RSS as retained settlements grow.

``router bench state --ledger``. No broker: for each size N and backend, a fresh Python process
drives the settle-worker's own ``Book`` and ``pvp.settle`` through N settlements, in
transactions of 500 as the stage commits them (``changes()``, the store's resume offset,
``commit()``); what Kafka would add is the same for both backends and is left out. Reported:

- the book's RSS with N decided receipts retained (memory: all in dicts; rocksdb: on disk), as
  left and after ``malloc_trim`` (the allocator's free pages handed back), with what RocksDB
  reports holding itself;
- CPU per settlement (settle + changes + commit, without building the requests);
- rocksdb: a restart in a new process: seconds to reopen the store and build the book, its RSS,
  and the answers to a replay of the first settlement id and a reuse of its MsgId (both must be
  what they were: DUPLICATE, and ABORT AM05 naming the first).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import shutil
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil

from router.bench import settlement_load as loadgen
from router.config import StateSettings
from router.outcome import DUPLICATE
from router.pipeline.ledger_store import DiskReceipts, LedgerStore
from router.settlement import pvp
from router.settlement.book import LEDGER_CHANGELOG, Book
from router.settlement.model import SettlementRequest
from router.streams.disk_store import rocksdb_options, shared_cache

TRANSACTION = 500
POLICY = pvp.Policy(pvp_deadline_s=60, liquidity_max_wait_s=0, owner_of=lambda a: a.split("/")[0])
NOW = 1_764_000_000.0


def _rss_mb() -> float:
    return round(float(psutil.Process().memory_info().rss) / 2**20, 1)


def _rocksdb_memory(store: LedgerStore) -> dict[str, float]:
    """What RocksDB itself holds in memory: memtables, block cache, and the SST files' index and
    filter blocks (outside the cache with these options: they grow with the data, ~1.3 bytes a key)."""
    props = {"memtables": "rocksdb.cur-size-all-mem-tables", "block_cache": "rocksdb.block-cache-usage",
             "table_readers": "rocksdb.estimate-table-readers-mem"}
    return {name: round((store.db.property_int_value(prop) or 0) / 2**20, 1) for name, prop in props.items()}


def _store(path: Path) -> LedgerStore:
    st = StateSettings()  # the settle-worker's defaults: memtable, block cache, flush interval
    return LedgerStore(0, LEDGER_CHANGELOG, path, rocksdb_options(st.write_buffer_mb, shared_cache(st.block_cache_mb)),
                       st.flush_interval_s)


def _book(backend: str, path: Path) -> Book:
    return Book(0) if backend == "memory" else Book(0, DiskReceipts(_store(path)))


def _requests(base: list[SettlementRequest], start: int, n: int) -> list[SettlementRequest]:
    """``n`` distinct requests (ids and MsgIds) from a few real ones: building the legs anew for each
    would cost more than settling it."""
    out = []
    for i in range(start, start + n):
        u = str(uuid.UUID(int=i + 1, version=4))
        r = base[i % len(base)]
        out.append(r.model_copy(update={"settlement_id": u, "uetr": u, "msg_id": f"M-{i}"}))
    return out


def fill(backend: str, n: int, path: str) -> dict[str, Any]:
    """In a fresh process: N settlements into a new book; its RSS and CPU per settlement."""
    c = loadgen.corridor(participants=8, participant_cny=Decimal("1000000000000.00"),
                         fx_balance=Decimal("1000000000000.00"))
    base = loadgen.random_requests(c, 200, seed=5)
    book = _book(backend, Path(path))
    pvp.open_accounts(book, c.opening, NOW, POLICY.owner_of)
    book.changes()
    book.commit()
    rss0 = _rss_mb()
    offset = 0
    cpu = 0.0
    for start in range(0, n, TRANSACTION):
        batch = _requests(base, start, min(TRANSACTION, n - start))
        t0 = time.process_time()
        for r in batch:
            pvp.settle(book, r, NOW + start / 1000, POLICY)
        changes = book.changes()
        if isinstance(book.tier, DiskReceipts):
            offset += len(changes)
            book.tier.store.wrote(LEDGER_CHANGELOG, offset)
        book.commit()
        cpu += time.process_time() - t0
    gc.collect()
    rss = _rss_mb()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # what is left is what the book holds, not the allocator's free pages
    out: dict[str, Any] = {"rss_mb": rss, "rss_trimmed_mb": _rss_mb(), "rss_before_mb": rss0,
                           "cpu_us_per_settlement": round(cpu * 1e6 / n, 1)}
    if isinstance(book.tier, DiskReceipts):
        out["rocksdb_mb"] = _rocksdb_memory(book.tier.store)
        book.tier.store.close()
        out["disk_mb"] = round(sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20, 1)
    return out


def reopen(path: str) -> dict[str, Any]:
    """In a fresh process: the book over the store the fill left; duplicates answered as before."""
    t0 = time.monotonic()
    book = _book("rocksdb", Path(path))
    took = time.monotonic() - t0
    rss = _rss_mb()
    assert isinstance(book.tier, DiskReceipts)
    memory = _rocksdb_memory(book.tier.store)
    c = loadgen.corridor(participants=8)
    first = _requests(loadgen.random_requests(c, 200, seed=5), 0, 1)[0]
    replay = pvp.settle(book, first, NOW + 10**6, POLICY).outcomes[0]
    reuse = pvp.settle(book, first.model_copy(update={"settlement_id": "again", "uetr": "again"}), NOW + 10**6,
                       POLICY).outcomes[0]
    answers_kept = (replay.decision == "DUPLICATE" and replay.duplicate_of == first.settlement_id
                    and reuse.decision == "ABORT" and reuse.reason == DUPLICATE
                    and reuse.duplicate_of == first.settlement_id)
    return {"reopen_s": round(took, 3), "rss_mb": rss, "rocksdb_mb": memory, "queue": len(book.queue),
            "duplicates_answered": answers_kept}


def _child(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(fn, args)
    return result


def run(sizes: list[int], backends: list[str]) -> dict[str, Any]:
    rows = []
    for n in sizes:
        row: dict[str, Any] = {"settlements": n}
        for backend in backends:
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-ledger-{n}-"))
            try:
                t0 = time.monotonic()
                row[backend] = _child(fill, backend, n, str(workdir / "store"))
                row[backend]["wall_s"] = round(time.monotonic() - t0, 1)
                if backend == "rocksdb":
                    row["rocksdb_restart"] = _child(reopen, str(workdir / "store"))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
        rows.append(row)
    return {"ledger": rows}
