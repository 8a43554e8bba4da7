"""The ledger's state for one shard: accounts, settlement receipts, fundings and the liquidity queue.

One ledger task owns every account of its shard, so it books both legs of a PvP in one step
(``router.settlement.pvp``). Its state is a compacted changelog (``settlement.ledger.state``)
of three kinds of key, encoded with msgspec (the state is written on every batch):

* ``acct|<account>``: balance, reservations, currency, owner;
* ``sid|<settlement id>``: the settlement's receipt (decided, or queued with its request);
* ``fund|<fund id>``: a funding already booked;
* ``cap|<participant>``: a net debit cap an operator set (overrides the settings).

Changes are made in place and remembered in an undo log: ``changes()`` are what the running
transaction must write, ``commit()`` forgets the log once it is written, ``rollback()`` puts the
old values back when the transaction failed, so memory always equals the changelog. The MsgId
claims and the queue are indexes derived from the receipts, never written themselves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

from router.settlement.model import SettlementRequest

LEDGER_CHANGELOG = "settlement.ledger.state"
ACCT, SID, FUND, CAP = "acct|", "sid|", "fund|", "cap|"
ZERO = Decimal(0)


class LedgerAccount(msgspec.Struct, frozen=True):
    account: str
    owner: str
    currency: str
    balance: Decimal
    reserved: Decimal = ZERO
    net: Decimal = ZERO  # settlement credits minus debits since opening (fundings excluded): net debit caps

    @property
    def available(self) -> Decimal:
        return self.balance - self.reserved


class SettlementReceipt(msgspec.Struct, frozen=True):
    """What the ledger remembers of a settlement: enough to answer a replay the same way."""

    settlement_id: str
    uetr: str
    sender: str
    msg_id: str
    status: Literal["QUEUED", "RESERVED", "COMMIT", "ABORT"]
    at: float  # when it was decided (queued: when it arrived)
    seq: int  # arrival order: the queue is served in this order
    reason: str | None = None
    duplicate_of: str | None = None
    duplicates: int = 0
    queued_until: float | None = None
    request: bytes | None = None  # the request's JSON while it waits in the queue or is reserved
    hold_until: float | None = None  # RESERVED: when the held legs are released unless executed


class Funding(msgspec.Struct, frozen=True):
    account: str
    at: float


class Cap(msgspec.Struct, frozen=True):
    amount: Decimal | None  # None: removed (the settings' cap, if any, applies again)
    command_id: str
    by: str
    at: float


Value = LedgerAccount | SettlementReceipt | Funding | Cap
_ENCODER = msgspec.json.Encoder(decimal_format="string")
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    ACCT: msgspec.json.Decoder(LedgerAccount), SID: msgspec.json.Decoder(SettlementReceipt),
    FUND: msgspec.json.Decoder(Funding), CAP: msgspec.json.Decoder(Cap)}
_MISSING = object()


def kind_of(key: str) -> str:
    return key[: key.index("|") + 1]


def decode(key: str, raw: bytes) -> Value:
    decoder = _DECODERS.get(kind_of(key))
    if decoder is None:
        raise ValueError(f"unknown ledger state key {key!r}")
    value: Value = decoder.decode(raw)
    return value


def encode(value: Value) -> bytes:
    return _ENCODER.encode(value)


class Book:
    """One shard's ledger state, as the transactional processor keeps it for its task."""

    def __init__(self, partition: int = 0) -> None:
        self.partition = partition
        self.accounts: dict[str, LedgerAccount] = {}
        self.receipts: dict[str, SettlementReceipt] = {}
        self.funds: dict[str, Funding] = {}
        self.caps: dict[str, Cap] = {}
        self.claims: dict[tuple[str, str], str] = {}  # (sender, MsgId) -> settlement id
        self.queue: dict[str, SettlementReceipt] = {}  # queued settlements in arrival order
        self.waiting: dict[str, SettlementRequest] = {}  # their requests, decoded once
        self.held: dict[str, SettlementRequest] = {}  # conditional settlements with reserved legs
        self.seq = 0
        self._undo: dict[str, object] = {}
        self.opened = False  # the configured opening balances have been looked at since start

    # --- reads and writes (each write remembers the value it replaces) ---

    def put_account(self, a: LedgerAccount) -> None:
        self._remember(ACCT + a.account, self.accounts.get(a.account, _MISSING))
        self.accounts[a.account] = a

    def put_receipt(self, r: SettlementReceipt, request: SettlementRequest | None = None) -> None:
        """``request``: the decoded request of a queued receipt, if the caller has it."""
        self._remember(SID + r.settlement_id, self.receipts.get(r.settlement_id, _MISSING))
        self._set_receipt(r.settlement_id, r, request)

    def drop_receipt(self, sid: str) -> None:
        self._remember(SID + sid, self.receipts.get(sid, _MISSING))
        self._set_receipt(sid, None)

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
        if key not in self._undo:
            self._undo[key] = old

    def _set_receipt(self, sid: str, r: SettlementReceipt | None, request: SettlementRequest | None = None) -> None:
        old = self.receipts.pop(sid, None)
        if old is not None:
            if self.claims.get((old.sender, old.msg_id)) == sid:
                del self.claims[(old.sender, old.msg_id)]
            self.queue.pop(sid, None)
            if r is None or r.status != "QUEUED":
                self.waiting.pop(sid, None)
            if r is None or r.status != "RESERVED":
                self.held.pop(sid, None)
        if r is None:
            return
        self.receipts[sid] = r
        self.claims.setdefault((r.sender, r.msg_id), sid)
        if r.status == "RESERVED" and sid not in self.held:
            if request is None and r.request is None:
                raise ValueError(f"reserved settlement {sid} without its request")
            self.held[sid] = request or SettlementRequest.model_validate_json(r.request or b"")
        if r.status == "QUEUED":
            if sid not in self.waiting:
                if request is None and r.request is None:
                    raise ValueError(f"queued settlement {sid} without its request")
                self.waiting[sid] = request or SettlementRequest.model_validate_json(r.request or b"")
            self.queue[sid] = r
            if len(self.queue) > 1 and r.seq < next(reversed(self.queue.values())).seq:
                # Put back in arrival order (a rollback restores an older receipt).
                self.queue = dict(sorted(self.queue.items(), key=lambda kv: kv[1].seq))
        self.seq = max(self.seq, r.seq)

    # --- the transactional processor's State protocol ---

    def load(self, changelog: str, key: str, value: bytes) -> None:
        item = decode(key, value)
        name = key[len(kind_of(key)):]
        if isinstance(item, LedgerAccount):
            self.accounts[name] = item
        elif isinstance(item, SettlementReceipt):
            self._set_receipt(name, item)
        elif isinstance(item, Cap):
            self.caps[name] = item
        else:
            self.funds[name] = item

    def changes(self) -> list[tuple[str, str, bytes | None]]:
        out: list[tuple[str, str, bytes | None]] = []
        for key in self._undo:
            kind, name = kind_of(key), key[len(kind_of(key)):]
            current: Value | None
            if kind == ACCT:
                current = self.accounts.get(name)
            elif kind == SID:
                current = self.receipts.get(name)
            elif kind == CAP:
                current = self.caps.get(name)
            else:
                current = self.funds.get(name)
            out.append((LEDGER_CHANGELOG, key, None if current is None else encode(current)))
        return out

    def commit(self) -> None:
        self._undo.clear()

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
            elif kind == SID:
                self._set_receipt(name, old if isinstance(old, SettlementReceipt) else None)
            elif kind == CAP:
                if isinstance(old, Cap):
                    self.caps[name] = old
                else:
                    self.caps.pop(name, None)
            elif isinstance(old, Funding):
                self.funds[name] = old
            else:
                self.funds.pop(name, None)

    def __len__(self) -> int:
        return len(self.accounts) + len(self.receipts) + len(self.funds) + len(self.caps)
