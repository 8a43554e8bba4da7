"""The ledger's state records: what ``settlement.ledger.state`` holds, and their msgspec codec.

Four kinds of key: ``acct|<account>`` (balance, reservations, currency, owner), ``sid|<settlement
id>`` (the settlement's receipt: decided, or open with its request), ``fund|<fund id>`` (a funding
already booked) and ``cap|<participant>`` (a net debit cap an operator set).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

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


OPEN = ("QUEUED", "RESERVED")  # a receipt still in the shard's hot state (queue, holds)
_RECEIPT = msgspec.json.Decoder(SettlementReceipt)


def decode_receipt(raw: bytes) -> SettlementReceipt:
    receipt: SettlementReceipt = _RECEIPT.decode(raw)
    return receipt


class Brief(msgspec.Struct, frozen=True):
    """The fields of a receipt its indexes need (the rest of the record is skipped, not decoded)."""

    sender: str
    msg_id: str
    status: str
    at: float
    seq: int


_BRIEF = msgspec.json.Decoder(Brief)


def brief(raw: bytes) -> Brief:
    b: Brief = _BRIEF.decode(raw)
    return b
