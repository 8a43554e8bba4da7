"""The ledger's state for one shard: accounts, settlement receipts, fundings and the liquidity queue.

One ledger task owns every account of its shard, so it books both legs of a PvP in one step
(``router.settlement.pvp``). Its state is a compacted changelog (``settlement.ledger.state``)
of four kinds of key (``router.settlement.ledger_records``): ``acct|``, ``sid|`` (receipts),
``fund|`` and ``cap|``.

What stays in memory is what is hot and bounded: the accounts, the caps, the fundings (operator
commands, few) and the open receipts (the liquidity queue and the conditional holds, with their
decoded requests). The decided receipts, one per settlement for the whole retention, and the
MsgId claims derived from them live in a ``Receipts`` tier (``router.settlement.receipts``): on
disk with ``state.backend = rocksdb``, in dicts with ``memory``.

Changes are made in place and remembered: accounts, caps and fundings in an undo log, receipts
in the running transaction's own map. ``changes()`` are what the transaction must write,
``commit()`` hands its receipts to the tier once it is written, ``rollback()`` puts the old
values back when the transaction failed, so memory and disk always equal the changelog.
"""

from __future__ import annotations

from collections.abc import Iterator

from router.settlement.ledger_records import (
    ACCT,
    CAP,
    FUND,
    LEDGER_CHANGELOG,
    OPEN,
    SID,
    ZERO,
    Cap,
    Funding,
    LedgerAccount,
    SettlementReceipt,
    Value,
    decode,
    encode,
    kind_of,
)
from router.settlement.model import SettlementRequest
from router.settlement.receipts import MemoryReceipts, Receipts

__all__ = ["ACCT", "CAP", "FUND", "LEDGER_CHANGELOG", "SID", "ZERO", "Book", "Cap", "Funding", "LedgerAccount",
           "SettlementReceipt", "Value", "decode", "encode", "kind_of"]

_MISSING = object()


class Book:
    """One shard's ledger state, as the transactional processor keeps it for its task.

    ``tier``: where committed receipts are kept (in memory unless given). A tier over a store that
    holds the shard's state already (a restart) hands back the hot state with it.
    """

    def __init__(self, partition: int = 0, tier: Receipts | None = None) -> None:
        self.partition = partition
        self.accounts: dict[str, LedgerAccount] = {}
        self.funds: dict[str, Funding] = {}
        self.caps: dict[str, Cap] = {}
        self.queue: dict[str, SettlementReceipt] = {}  # queued settlements in arrival order
        self.waiting: dict[str, SettlementRequest] = {}  # their requests, decoded once
        # Queued settlements by the accounts their legs debit: liquidity arriving on an account
        # looks at the settlements waiting for it, not at the whole queue (``pvp.drain``).
        self.queued_by_debit: dict[str, set[str]] = {}
        self.reserved: dict[str, SettlementReceipt] = {}  # conditional settlements with reserved legs
        self.held: dict[str, SettlementRequest] = {}  # their requests
        self.seq = 0
        self.tier: Receipts = tier if tier is not None else MemoryReceipts()
        self._undo: dict[str, object] = {}
        self._txn: dict[str, SettlementReceipt | None] = {}  # receipts this transaction wrote (None: dropped)
        self._txn_claims: dict[tuple[str, str], set[str]] = {}  # their (sender, MsgId)s
        self._staged = False  # the changes are staged on disk as they stand
        self.opened = False  # the configured opening balances have been looked at since start
        self._reload()

    # --- reads ---

    def receipt(self, sid: str) -> SettlementReceipt | None:
        if sid in self._txn:
            return self._txn[sid]
        r = self.queue.get(sid) or self.reserved.get(sid)
        return r if r is not None else self.tier.get(sid)

    def claim(self, sender: str, msg_id: str) -> str | None:
        """The settlement that holds this sender's MsgId: the earliest retained one carrying it."""
        found = {sid: seq for seq, sid in self.tier.claimants(sender, msg_id) if sid not in self._txn}
        for sid in self._txn_claims.get((sender, msg_id), ()):
            r = self._txn[sid]
            if r is not None:
                found[sid] = r.seq
        return min(found, key=lambda sid: (found[sid], sid)) if found else None

    def decided_by_age(self, before: float) -> Iterator[str]:
        """Candidates for the retention sweep, oldest first: committed decided receipts up to
        ``before`` (at the index's precision: the caller checks each receipt's own time)."""
        return self.tier.decided_by_age(before)

    def all_receipts(self) -> dict[str, SettlementReceipt]:
        """Every retained receipt: an audit's or a test's full read (decodes the whole history)."""
        out = {r.settlement_id: r for r in self.tier.all()}
        for sid, r in self._txn.items():
            if r is None:
                out.pop(sid, None)
            else:
                out[sid] = r
        return out

    def all_claims(self) -> dict[tuple[str, str], str]:
        """Every claimed (sender, MsgId): a full read, like ``all_receipts``."""
        first: dict[tuple[str, str], SettlementReceipt] = {}
        for r in self.all_receipts().values():
            seen = first.get((r.sender, r.msg_id))
            if seen is None or (r.seq, r.settlement_id) < (seen.seq, seen.settlement_id):
                first[(r.sender, r.msg_id)] = r
        return {pair: r.settlement_id for pair, r in first.items()}

    # --- writes (each remembers the value it replaces) ---

    def put_account(self, a: LedgerAccount) -> None:
        self._remember(ACCT + a.account, self.accounts.get(a.account, _MISSING))
        self.accounts[a.account] = a

    def put_receipt(self, r: SettlementReceipt, request: SettlementRequest | None = None) -> None:
        """``request``: the decoded request of an open receipt, if the caller has it."""
        sid = r.settlement_id
        self._txn[sid] = r
        self._txn_claims.setdefault((r.sender, r.msg_id), set()).add(sid)
        self._staged = False
        self._set_open(sid, r, request)
        self.seq = max(self.seq, r.seq)

    def drop_receipt(self, sid: str) -> None:
        self._txn[sid] = None
        self._staged = False
        self._set_open(sid, None)

    def put_funding(self, fund_id: str, f: Funding | None) -> None:
        self._remember(FUND + fund_id, self.funds.get(fund_id, _MISSING))
        if f is None:
            self.funds.pop(fund_id, None)
        else:
            self.funds[fund_id] = f

    def put_cap(self, participant: str, c: Cap) -> None:
        self._remember(CAP + participant, self.caps.get(participant, _MISSING))
        self.caps[participant] = c

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _remember(self, key: str, old: object) -> None:
        self._staged = False
        if key not in self._undo:
            self._undo[key] = old

    def _set_open(self, sid: str, r: SettlementReceipt | None, request: SettlementRequest | None = None) -> None:
        """Keep the queue and the holds in step with receipt ``sid`` becoming ``r``."""
        status = r.status if r is not None else None
        if status != "QUEUED":
            self.queue.pop(sid, None)
            left = self.waiting.pop(sid, None)
            if left is not None:
                for leg in left.legs:
                    sids = self.queued_by_debit.get(leg.debit_account)
                    if sids is not None:
                        sids.discard(sid)
                        if not sids:
                            del self.queued_by_debit[leg.debit_account]
        if status != "RESERVED":
            self.reserved.pop(sid, None)
            self.held.pop(sid, None)
        if r is None:
            return
        if status == "RESERVED":
            if sid not in self.held:
                if request is None and r.request is None:
                    raise ValueError(f"reserved settlement {sid} without its request")
                self.held[sid] = request or SettlementRequest.model_validate_json(r.request or b"")
            self.reserved[sid] = r
        elif status == "QUEUED":
            if sid not in self.waiting:
                if request is None and r.request is None:
                    raise ValueError(f"queued settlement {sid} without its request")
                waiting = self.waiting[sid] = request or SettlementRequest.model_validate_json(r.request or b"")
                for leg in waiting.legs:
                    self.queued_by_debit.setdefault(leg.debit_account, set()).add(sid)
            known = sid in self.queue
            self.queue[sid] = r
            if not known and len(self.queue) > 1 and r.seq < next(reversed(self.queue.values())).seq:
                # Put back in arrival order (a rollback or a restore brings back an older receipt).
                self.queue = dict(sorted(self.queue.items(), key=lambda kv: kv[1].seq))

    # --- the transactional processor's State protocol ---

    def load(self, changelog: str, key: str, value: bytes) -> None:
        """One changelog record, as the in-memory restore hands them (a book on disk is restored
        by its store: ``_reload``)."""
        if not isinstance(self.tier, MemoryReceipts):
            raise TypeError("a book on disk is restored by its store, not record by record")
        item = decode(key, value)
        name = key[len(kind_of(key)):]
        if isinstance(item, LedgerAccount):
            self.accounts[name] = item
        elif isinstance(item, SettlementReceipt):
            self.tier.load(name, item)
            self._set_open(name, item)
            self.seq = max(self.seq, item.seq)
        elif isinstance(item, Cap):
            self.caps[name] = item
        else:
            self.funds[name] = item

    def _reload(self) -> None:
        """The hot state a tier on disk holds already (a store caught up with the changelog):
        accounts, caps and fundings, and the open receipts from their index; no decided receipt
        is read."""
        for key, raw in self.tier.hot_records():
            item = decode(key, raw)
            name = key[len(kind_of(key)):]
            if isinstance(item, LedgerAccount):
                self.accounts[name] = item
            elif isinstance(item, Cap):
                self.caps[name] = item
            elif isinstance(item, Funding):
                self.funds[name] = item
        for r in sorted(self.tier.open(), key=lambda r: r.seq):
            self._set_open(r.settlement_id, r)
        self.seq = self.tier.max_seq()

    def changes(self) -> list[tuple[str, str, bytes | None]]:
        out: list[tuple[str, str, bytes | None]] = []
        for key in self._undo:
            kind, name = kind_of(key), key[len(kind_of(key)):]
            current: Value | None
            if kind == ACCT:
                current = self.accounts.get(name)
            elif kind == CAP:
                current = self.caps.get(name)
            else:
                current = self.funds.get(name)
            out.append((LEDGER_CHANGELOG, key, None if current is None else encode(current)))
        for sid, r in self._txn.items():
            out.append((LEDGER_CHANGELOG, SID + sid, None if r is None else encode(r)))
        self.tier.stage([(key, value) for _, key, value in out])
        self._staged = True
        return out

    def commit(self) -> None:
        if not self._staged:
            self.changes()  # a caller that committed without asking for the changes first
        self.tier.commit(self._txn, self.seq)
        self._undo.clear()
        self._txn.clear()
        self._txn_claims.clear()
        self._staged = False

    def rollback(self) -> None:
        undo, self._undo = self._undo, {}
        for key, old in undo.items():
            kind, name = kind_of(key), key[len(kind_of(key)):]
            if kind == ACCT:
                if old is _MISSING:
                    self.accounts.pop(name, None)
                else:
                    assert isinstance(old, LedgerAccount)
                    self.accounts[name] = old
            elif kind == CAP:
                if isinstance(old, Cap):
                    self.caps[name] = old
                else:
                    self.caps.pop(name, None)
            elif isinstance(old, Funding):
                self.funds[name] = old
            else:
                self.funds.pop(name, None)
        txn, self._txn = self._txn, {}
        self._txn_claims.clear()
        for sid in txn:
            old_r = self.tier.get(sid)
            self._set_open(sid, old_r if old_r is not None and old_r.status in OPEN else None)
        self.tier.rollback()
        self._staged = False

    def __len__(self) -> int:
        return len(self.accounts) + len(self.funds) + len(self.caps) + len(self.tier)
