"""Where a ledger shard keeps its committed settlement receipts, and the indexes over them.

A receipt is kept for the retention (30 days by default) so that a replayed settlement id or a
reused MsgId gets the same answer; that is every payment the shard has seen, so this is the
part of the book that grows. The ``Book`` keeps the running transaction's receipts itself and
asks its tier for the committed ones:

* ``MemoryReceipts``: Python dicts (``state.backend = memory``; tests and a quick look);
* ``DiskReceipts`` (``router.pipeline.ledger_store``): RocksDB, with a small cache of recent
  receipts in front of it.

Both answer the same three questions, in the same order:

* a receipt by settlement id;
* the *claimants* of a (sender, MsgId): the live receipts carrying it, by arrival (``seq``). The
  first is the claim: a later request with that MsgId is a duplicate of it. That depends only on
  the receipts retained, so the answer is the same after a restart, whichever order a restore
  reads them in;
* decided receipts by age, oldest first, for the retention sweep (keyed as ``age_key``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from router.settlement.ledger_records import OPEN, SettlementReceipt

AGE_SLACK_S = 1e-3  # ages are compared at key precision (microseconds): the sweep checks each exactly


def age_key(at: float) -> str:
    """A decision time as a fixed-width string that sorts like the number (times are positive)."""
    return f"{at:020.6f}"


class Receipts(Protocol):
    def get(self, sid: str) -> SettlementReceipt | None: ...

    def claimants(self, sender: str, msg_id: str) -> list[tuple[int, str]]: ...  # (seq, sid), by seq

    def decided_by_age(self, before: float) -> Iterator[str]: ...  # ids, oldest first, up to ``before``

    def open(self) -> list[SettlementReceipt]: ...  # queued and reserved receipts (to rebuild the queue)

    def all(self) -> Iterator[SettlementReceipt]: ...  # every receipt: an audit's full read

    def hot_records(self) -> Iterator[tuple[str, bytes]]: ...  # acct|, cap|, fund| records it holds already

    def max_seq(self) -> int: ...  # the highest arrival number used (0: none known)

    def stage(self, records: list[tuple[str, bytes | None]]) -> None: ...  # the transaction's changelog records

    def commit(self, changed: Mapping[str, SettlementReceipt | None], seq: int) -> None: ...

    def rollback(self) -> None: ...

    def __len__(self) -> int: ...


class MemoryReceipts:
    """Every committed receipt decoded in a dict, with the claims as a dict of dicts."""

    on_disk = False

    def __init__(self) -> None:
        self.receipts: dict[str, SettlementReceipt] = {}
        self.claims: dict[tuple[str, str], dict[str, int]] = {}  # (sender, MsgId) -> {sid: seq}

    def get(self, sid: str) -> SettlementReceipt | None:
        return self.receipts.get(sid)

    def claimants(self, sender: str, msg_id: str) -> list[tuple[int, str]]:
        found = self.claims.get((sender, msg_id))
        return sorted((seq, sid) for sid, seq in found.items()) if found else []

    def decided_by_age(self, before: float) -> Iterator[str]:
        # The same keys and bound as the disk index, so both sweeps pick the same receipts.
        aged = sorted((age_key(r.at), sid) for sid, r in self.receipts.items()
                      if r.status not in OPEN and float(age_key(r.at)) <= before + AGE_SLACK_S)
        return iter([sid for _, sid in aged])

    def open(self) -> list[SettlementReceipt]:
        return [r for r in self.receipts.values() if r.status in OPEN]

    def all(self) -> Iterator[SettlementReceipt]:
        return iter(list(self.receipts.values()))

    def hot_records(self) -> Iterator[tuple[str, bytes]]:
        return iter(())  # a new book in memory is loaded record by record (``Book.load``)

    def max_seq(self) -> int:
        return max((r.seq for r in self.receipts.values()), default=0)

    def stage(self, records: list[tuple[str, bytes | None]]) -> None:
        return None  # nothing to write: memory takes the receipts at commit

    def commit(self, changed: Mapping[str, SettlementReceipt | None], seq: int) -> None:
        for sid, r in changed.items():
            self.load(sid, r)

    def rollback(self) -> None:
        return None

    def load(self, sid: str, r: SettlementReceipt | None) -> None:
        old = self.receipts.pop(sid, None)
        if old is not None:
            pair = (old.sender, old.msg_id)
            found = self.claims.get(pair)
            if found is not None:
                found.pop(sid, None)
                if not found:
                    del self.claims[pair]
        if r is not None:
            self.receipts[sid] = r
            self.claims.setdefault((r.sender, r.msg_id), {})[sid] = r.seq

    def __len__(self) -> int:
        return len(self.receipts)
