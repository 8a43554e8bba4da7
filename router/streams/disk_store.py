"""A task's state in RocksDB on local disk, with its changelog as the backup (Kafka Streams' model).

Why: a ``Store`` of Python dicts grows with every retained payment (the worker measured ~8.7 KB
of RSS per payment) and a restart decodes the whole changelog. Here the committed values live in
an embedded RocksDB per task (``rocksdict``); memory holds only the running transaction's staged
changes, RocksDB's small memtable and a block cache shared by the process's tasks.

The changelog stays the source of truth. The store remembers, in the same atomic write as the
values, a *resume offset* per changelog: every changelog record before it is in the store. After a
commit that wrote changelog records, it is the offset just after them (a task's records of one
transaction are consecutive: its producer alone writes the partition, and never twice). A restart, a takeover
with a warm standby copy, or a crash between the Kafka commit and the local write all end the
same way: replay the changelog from the resume offset to its end.

A store is wiped and rebuilt from the changelog's beginning when its resume offset cannot be
trusted: past the changelog's end (the topic was recreated) or before its start (records were
deleted). As in Kafka Streams, a copy left offline for longer than the changelog's
``delete.retention.ms`` may miss a compacted-away tombstone; stores are per process and are
rebuilt when their directory is removed.
"""

from __future__ import annotations

import shutil
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rocksdict import BlockBasedOptions, Cache, DBCompressionType, Options, Rdict, WriteBatch, WriteOptions

from router.streams.store import Store

_RESERVED = b"\x00"  # keys of the store's own bookkeeping; stage keys never start with NUL
_RESUME = _RESERVED + b"resume|"
_PRINT = _RESERVED + b"print|"
_LOCAL = _RESERVED + b"ix|"  # a stage's local indexes over its records (``put_local``)
_LOAD_FLUSH = 5_000  # records per write while restoring: bounded memory for any history


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One changelog record the store has applied: its offset, key and value's CRC. A changelog
    deleted and created again under the same name can reach the store's resume offset with other
    records; the record found at this offset then differs, and the store is rebuilt."""

    offset: int
    key: bytes
    crc: int

    @classmethod
    def of(cls, offset: int, key: bytes | None, value: bytes | None) -> Fingerprint:
        return cls(offset, key or b"", zlib.crc32(value or b""))

    def matches(self, offset: int, key: bytes | None, value: bytes | None) -> bool:
        return Fingerprint.of(offset, key, value) == self

    def encode(self) -> bytes:
        return b"%d|%d|" % (self.offset, self.crc) + self.key

    @classmethod
    def decode(cls, raw: bytes) -> Fingerprint:
        offset, crc, key = raw.split(b"|", 2)
        return cls(int(offset), key, int(crc))


def rocksdb_options(write_buffer_mb: int, cache: Cache) -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.set_write_buffer_size(write_buffer_mb * 1024 * 1024)
    opts.set_max_write_buffer_number(2)
    opts.set_compression_type(DBCompressionType.lz4())  # JSON states shrink ~4x for little CPU
    table = BlockBasedOptions()
    table.set_block_cache(cache)
    table.set_bloom_filter(10, False)  # a new payment's lookup misses without reading blocks
    opts.set_block_based_table_factory(table)
    return opts


def _no_wal() -> WriteOptions:
    """Writes without RocksDB's write-ahead log, as Kafka Streams' stores do: the changelog is
    the log. A crash loses at most the unflushed memtable, and with it the resume offset written
    in the same batches, so the store falls back to an older, consistent checkpoint and replays
    more of the changelog (at most ``flush_interval_s`` of it: ``DiskStore._maybe_flush``)."""
    w = WriteOptions()
    w.disable_wal = True  # type: ignore[method-assign,assignment]  # a property, whatever the stub says
    return w


def shared_cache(megabytes: int) -> Cache:
    return Cache(megabytes * 1024 * 1024)


class DiskStore(Store):
    """The ``Store`` interface over RocksDB: ``get`` sees the staged changes first, ``commit``
    writes them and the resume offset in one atomic batch, ``rollback`` forgets them."""

    def __init__(self, partition: int, changelog: str | None, path: Path, options: Options,
                 flush_interval_s: float = 10.0) -> None:
        super().__init__(partition, changelog)
        self.flush_interval_s = flush_interval_s
        self._flushed_at = time.monotonic()
        self.path = path
        self.options = options
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Rdict(str(path), options)
        self.db.set_write_options(_no_wal())
        self._loading: WriteBatch | None = None
        self._loaded = 0
        # Local keys staged by the running transaction: written with its values, never to the changelog.
        self.local: dict[bytes, bytes | None] = {}
        # changelog -> (the offset after this transaction's records, its first record)
        self._written: dict[str, tuple[int, Fingerprint | None]] = {}

    # --- the Store interface ---

    def get(self, key: str) -> bytes | None:
        if key in self.staged:
            return self.staged[key]
        value: bytes | None = self.db.get(key.encode())
        return value

    def items(self) -> Iterator[tuple[str, bytes]]:
        staged = self.staged
        for k, v in self._raw(b""):
            if k.startswith(_RESERVED):
                continue
            key = k.decode()
            if key not in staged:
                yield key, v
        for key, value in list(staged.items()):
            if value is not None:
                yield key, value

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        """Committed and staged values whose key starts with ``prefix``."""
        raw = prefix.encode()
        staged = self.staged
        for k, v in self._raw(raw):
            if not k.startswith(raw):
                break
            key = k.decode()
            if key not in staged:
                yield key, v
        for key, value in list(staged.items()):
            if value is not None and key.startswith(prefix):
                yield key, value

    def scan_after(self, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        """Up to ``limit`` committed values in key order, past ``after``: a sweep's next slice."""
        out: list[tuple[str, bytes]] = []
        start = after.encode() if after is not None else b"\x01"
        for k, v in self._raw(start):
            if k.startswith(_RESERVED) or (after is not None and k == start):
                continue
            out.append((k.decode(), v))
            if len(out) >= limit:
                break
        return out

    def _raw(self, from_key: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Committed (key, value) pairs in key order from ``from_key`` (raw mode: bytes both)."""
        for k, v in self.db.items(from_key=from_key):
            yield cast(bytes, k), cast(bytes, v)

    def committed(self, key: str) -> bytes | None:
        """The committed value of ``key`` (the running transaction's changes not seen)."""
        value: bytes | None = self.db.get(key.encode())
        return value

    # --- local keys: indexes a stage derives from its records, kept beside them ---

    def put_local(self, key: bytes, value: bytes | None) -> None:
        """Stage a local key (``None``: delete it). It is written in the same atomic batch as the
        transaction's values and the resume offset, so an index never disagrees with its records;
        it never goes to the changelog, so a store rebuilt from the changelog must derive it again
        while loading (``load_local``)."""
        self.local[key] = value

    def local_from(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Committed local keys starting with ``prefix`` in key order, as (key, value)."""
        raw = _LOCAL + prefix
        cut = len(_LOCAL)
        for k, v in self._raw(raw):
            if not k.startswith(raw):
                break
            yield k[cut:], v

    def load_local(self, key: bytes, value: bytes | None) -> None:
        """A local key derived from a changelog record being loaded: written with that record."""
        batch = self._loading_batch()
        if value is None:
            batch.delete(_LOCAL + key)
        else:
            batch.put(_LOCAL + key, value)

    def commit(self) -> None:
        if not self.staged and not self._written and not self.local:
            return
        batch = WriteBatch(raw_mode=True)
        for key, value in self.staged.items():
            if value is None:
                batch.delete(key.encode())
            else:
                batch.put(key.encode(), value)
        for raw, value in self.local.items():
            if value is None:
                batch.delete(_LOCAL + raw)
            else:
                batch.put(_LOCAL + raw, value)
        for changelog, (offset, first) in self._written.items():
            batch.put(_RESUME + changelog.encode(), str(offset).encode())
            if first is not None:
                batch.put(_PRINT + changelog.encode(), first.encode())
        self.db.write(batch)
        self.staged.clear()
        self.local.clear()
        self._written.clear()
        self._maybe_flush()

    def _maybe_flush(self, now: bool = False) -> None:
        """Writes skip RocksDB's WAL, so a crash loses what is still in the memtable: flush it
        every ``flush_interval_s``, so that a SIGKILL costs at most that much changelog replay."""
        if now or time.monotonic() - self._flushed_at >= self.flush_interval_s:
            self.db.flush()
            self._flushed_at = time.monotonic()

    def rollback(self) -> None:
        self.generation += 1
        self.staged.clear()
        self.local.clear()
        self._written.clear()

    def __len__(self) -> int:
        return int(self.db.property_int_value("rocksdb.estimate-num-keys") or 0)

    # --- checkpoints and restore (the processor's disk-state protocol) ---

    def resume_offset(self, changelog: str) -> int | None:
        raw = self.db.get(_RESUME + changelog.encode())
        return int(raw) if raw is not None else None

    def fingerprint(self, changelog: str) -> Fingerprint | None:
        raw = self.db.get(_PRINT + changelog.encode())
        return Fingerprint.decode(raw) if raw is not None else None

    def wrote(self, changelog: str, resume_offset: int, first: Fingerprint | None = None) -> None:
        """The running transaction wrote changelog records up to just before ``resume_offset``;
        ``first`` is the first record it wrote there."""
        self._written[changelog] = (resume_offset, first)

    def load(self, changelog: str, key: str, value: bytes) -> None:
        self.load_record(key, value)

    def load_record(self, key: str, value: bytes | None) -> None:
        """One changelog record, in offset order (``None``: a tombstone)."""
        batch = self._loading_batch()
        if value is None:
            batch.delete(key.encode())
        else:
            batch.put(key.encode(), value)
        self._loaded += 1
        if self._loaded >= _LOAD_FLUSH:
            self.db.write(batch)
            self._loading_written()

    def _loading_batch(self) -> WriteBatch:
        self.generation += 1
        if self._loading is None:
            self._loading = WriteBatch(raw_mode=True)
        return self._loading

    def _loading_written(self) -> None:
        """The records loaded so far are in the database (a subclass forgets what it kept of them)."""
        self._loading, self._loaded = None, 0

    def loaded_to(self, changelog: str, offset: int, last: Fingerprint | None = None) -> None:
        """Every changelog record before ``offset`` is loaded (``last``: the last one): write them
        with the checkpoint."""
        batch = self._loading or WriteBatch(raw_mode=True)
        batch.put(_RESUME + changelog.encode(), str(offset).encode())
        if last is not None:
            batch.put(_PRINT + changelog.encode(), last.encode())
        self.db.write(batch)
        self._loading_written()
        self._maybe_flush()

    def wipe(self) -> None:
        """Start again from nothing (the resume offset could not be trusted)."""
        self.generation += 1
        self.db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self.db = Rdict(str(self.path), self.options)
        self.db.set_write_options(_no_wal())
        self.staged.clear()
        self.local.clear()
        self._written.clear()
        self._loading_written()

    def close(self) -> None:
        self.db.close()
