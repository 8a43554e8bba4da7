"""One task's state as Python dicts: committed values plus the running transaction's changes.

The in-memory backend (``state.backend = memory``), and the interface ``DiskStore`` keeps.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator


class Store:
    """One task's state: committed values plus the changes staged by the running transaction."""

    def __init__(self, partition: int, changelog: str | None = None) -> None:
        self.partition = partition
        self.changelog = changelog
        self.values: dict[str, bytes] = {}
        self.staged: dict[str, bytes | None] = {}
        # Moves whenever a value can change other than by ``put``: a rollback, a changelog record
        # loaded. A stage that caches what it read or wrote trusts the cache while this stays put.
        self.generation = 0

    def get(self, key: str) -> bytes | None:
        if key in self.staged:
            return self.staged[key]
        return self.values.get(key)

    def put(self, key: str, value: bytes | None) -> None:
        self.staged[key] = value

    def items(self) -> Iterator[tuple[str, bytes]]:
        for key in set(self.values) | set(self.staged):
            value = self.get(key)
            if value is not None:
                yield key, value

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        """Values whose key starts with ``prefix`` (an index a stage keeps beside its records)."""
        for key, value in self.items():
            if key.startswith(prefix):
                yield key, value

    def scan_after(self, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        """Up to ``limit`` committed values in key order, past ``after``: a sweep's next slice."""
        keys = heapq.nsmallest(limit, (k for k in self.values if after is None or k > after))
        return [(k, self.values[k]) for k in keys]

    def load(self, changelog: str, key: str, value: bytes) -> None:
        self.generation += 1
        self.values[key] = value

    def changes(self) -> list[tuple[str, str, bytes | None]]:
        changelog = self.changelog
        return [(changelog, k, v) for k, v in self.staged.items()] if changelog else []

    def commit(self) -> None:
        for key, value in self.staged.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value
        self.staged.clear()

    def rollback(self) -> None:
        self.generation += 1
        self.staged.clear()

    def __len__(self) -> int:
        return len(self.values)
