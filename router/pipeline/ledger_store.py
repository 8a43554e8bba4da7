"""The ledger shard's receipts on disk: its ``DiskStore``, with indexes over the receipts.

The store holds every record of the shard's changelog (``settlement.ledger.state``), as every
task's store does; the processor checkpoints and restores it like any other (resume offset,
fingerprint, standby copies). What the ledger adds are local indexes, derived from the ``sid|``
records and written in the same atomic batches as they are, both when a transaction commits and
when changelog records are loaded (a restore's tail, a rebuild, a standby copy). They are never
written to the changelog, whose format is unchanged:

* ``o|<sid>``: an open (queued or reserved) receipt: a restore rebuilds the queue and the holds
  from these alone, not from the whole history;
* ``t|<decided at>|<sid>``: a decided receipt by age: the retention sweep reads the oldest first;
* ``c|<sender><MsgId><seq>`` -> sid: the claimants of a MsgId, by arrival (``router.settlement.receipts``);
* ``seq``: the highest arrival number used, so new receipts sort after every retained one.

Deriving an index entry needs the record's previous value (a tombstone names only its key): the
loader reads it from the batch being loaded, else from the database.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path

from rocksdict import Options

from router.settlement.ledger_records import ACCT, CAP, FUND, OPEN, SID, SettlementReceipt, brief, decode_receipt
from router.settlement.receipts import AGE_SLACK_S, age_key
from router.streams.disk_store import DiskStore

_OPEN, _AGE, _CLAIM, _SEQ = b"o|", b"t|", b"c|", b"seq"
_AGE_WIDTH = len(age_key(0.0))
_SEQ_WIDTH = 20


def _field(s: str) -> bytes:
    """Length-prefixed, so that one (sender, MsgId) is never a prefix of another's keys."""
    raw = s.encode()
    return b"%d:%s" % (len(raw), raw)


def claim_prefix(sender: str, msg_id: str) -> bytes:
    return _CLAIM + _field(sender) + _field(msg_id)


def index_writes(key: str, old: bytes | None, new: bytes | None) -> list[tuple[bytes, bytes | None]]:
    """The local index changes when receipt record ``key`` goes from ``old`` to ``new``."""
    sid = key[len(SID):].encode()
    out: list[tuple[bytes, bytes | None]] = []
    for raw, value in ((old, None), (new, sid)):
        if raw is None:
            continue
        b = brief(raw)
        present = None if value is None else b""
        if b.status in OPEN:
            out.append((_OPEN + sid, present))
        else:
            out.append((_AGE + age_key(b.at).encode() + b"|" + sid, present))
        out.append((claim_prefix(b.sender, b.msg_id) + b"%020d" % b.seq, value))
    return out


class LedgerStore(DiskStore):
    def __init__(self, partition: int, changelog: str | None, path: Path, options: Options,
                 flush_interval_s: float = 10.0) -> None:
        super().__init__(partition, changelog, path, options, flush_interval_s)
        self._unwritten: dict[str, bytes | None] = {}  # receipt records in the load batch not yet written
        self.max_seq = self._stored_seq()

    def _stored_seq(self) -> int:
        raw = next((v for k, v in self.local_from(_SEQ) if k == _SEQ), None)
        return int(raw) if raw is not None else 0

    def note_seq(self, seq: int) -> None:
        """The book has used arrival numbers up to ``seq`` (written with the next commit)."""
        if seq > self.max_seq:
            self.max_seq = seq
            self.put_local(_SEQ, str(seq).encode())

    def commit(self) -> None:
        for key, value in self.staged.items():
            if key.startswith(SID):
                for k, v in index_writes(key, self.committed(key), value):
                    self.put_local(k, v)
        super().commit()

    def load_record(self, key: str, value: bytes | None) -> None:
        if key.startswith(SID):
            old = self._unwritten[key] if key in self._unwritten else self.committed(key)
            for k, v in index_writes(key, old, value):
                self.load_local(k, v)
            if value is not None:
                seq = brief(value).seq
                if seq > self.max_seq:
                    self.max_seq = seq
                    self.load_local(_SEQ, str(seq).encode())
            self._unwritten[key] = value
        super().load_record(key, value)

    def _loading_written(self) -> None:
        super()._loading_written()
        self._unwritten.clear()

    def wipe(self) -> None:
        super().wipe()
        self.max_seq = 0


class DiskReceipts:
    """Committed receipts in a ``LedgerStore``; the most recent ``cache`` decided ones decoded in
    memory (a replay of a settlement id comes soon after the original, if at all)."""

    on_disk = True

    def __init__(self, store: LedgerStore, cache: int = 4096) -> None:
        self.store = store
        self.size = cache
        self.cache: OrderedDict[str, SettlementReceipt] = OrderedDict()

    def get(self, sid: str) -> SettlementReceipt | None:
        r = self.cache.get(sid)
        if r is not None:
            self.cache.move_to_end(sid)
            return r
        raw = self.store.committed(SID + sid)
        if raw is None:
            return None
        r = decode_receipt(raw)
        self._remember(sid, r)
        return r

    def _remember(self, sid: str, r: SettlementReceipt) -> None:
        self.cache[sid] = r
        self.cache.move_to_end(sid)
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)

    def claimants(self, sender: str, msg_id: str) -> list[tuple[int, str]]:
        prefix = claim_prefix(sender, msg_id)
        return [(int(k[-_SEQ_WIDTH:]), v.decode()) for k, v in self.store.local_from(prefix)
                if len(k) == len(prefix) + _SEQ_WIDTH]

    def decided_by_age(self, before: float) -> Iterator[str]:
        start = len(_AGE)
        for k, _ in self.store.local_from(_AGE):
            if float(k[start:start + _AGE_WIDTH]) > before + AGE_SLACK_S:
                return
            yield k[start + _AGE_WIDTH + 1:].decode()

    def open(self) -> list[SettlementReceipt]:
        out = []
        for k, _ in self.store.local_from(_OPEN):
            raw = self.store.committed(SID + k[len(_OPEN):].decode())
            if raw is not None:
                out.append(decode_receipt(raw))
        return out

    def all(self) -> Iterator[SettlementReceipt]:
        for _, raw in self.store.scan(SID):
            yield decode_receipt(raw)

    def hot_records(self) -> Iterator[tuple[str, bytes]]:
        for prefix in (ACCT, CAP, FUND):
            yield from self.store.scan(prefix)

    def max_seq(self) -> int:
        return self.store.max_seq

    def stage(self, records: list[tuple[str, bytes | None]]) -> None:
        for key, value in records:
            self.store.put(key, value)

    def commit(self, changed: Mapping[str, SettlementReceipt | None], seq: int) -> None:
        self.store.note_seq(seq)
        self.store.commit()
        for sid, r in changed.items():
            if r is None or r.status in OPEN:
                self.cache.pop(sid, None)  # open receipts are the book's own, in memory
            else:
                self._remember(sid, r)

    def rollback(self) -> None:
        self.store.rollback()

    def __len__(self) -> int:
        return len(self.store)
