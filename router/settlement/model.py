"""Settlement records: requests and fundings in, the journal and outcomes out (JSON on Kafka).

Every record carries ``type`` so one topic can hold several kinds and a reader can dispatch
without guessing. Amounts are Decimal, serialised as strings, never floats.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from router.settlement.settings import ACCOUNT_ID, minor_units

LegName = Literal["cny", "foreign"]
AccountId = Annotated[str, Field(pattern=ACCOUNT_ID.pattern)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# Free text ids (UETR, MsgId, sender BIC / CIPS id) must not contain the store key separator.
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^|\s]+$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """A positive amount with no more decimals than the currency's ISO 4217 minor units."""
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be positive")
    try:
        digits = minor_units(currency)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown ISO 4217 currency {currency!r}") from exc
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise ValueError(f"{amount} has more than {digits} decimals for {currency}")
    return amount


class Leg(_Frozen):
    """One currency leg: ``debit_account`` pays ``credit_account`` ``amount`` in ``currency``."""

    leg: LegName
    debit_account: AccountId
    credit_account: AccountId
    currency: Currency
    amount: Decimal

    @model_validator(mode="after")
    def _valid(self) -> Leg:
        check_amount(self.amount, self.currency)
        if self.debit_account == self.credit_account:
            raise ValueError(f"leg {self.leg}: debit and credit account are the same")
        return self


class SettlementRequest(_Frozen):
    """What the payment pipeline asks for: both legs settle, or neither. Key: settlement_id."""

    type: Literal["REQUEST"] = "REQUEST"
    settlement_id: Ident  # the payment's UETR
    uetr: Ident
    sender: Ident  # the instructing participant (BIC or CIPS participant id)
    msg_id: Ident  # the sender's MsgId of the instruction
    legs: tuple[Leg, ...] = Field(min_length=1, max_length=2)
    deadline: datetime | None = None
    # A conditional (programmable) payment: the ledger only RESERVES the legs, until an EXECUTE
    # for ``condition_id`` commits them or ``hold_until`` passes (or a RELEASE comes) first.
    condition_id: Ident | None = None
    hold_until: datetime | None = None

    @model_validator(mode="after")
    def _condition_complete(self) -> SettlementRequest:
        if (self.condition_id is None) != (self.hold_until is None):
            raise ValueError("condition_id and hold_until go together")
        return self

    @field_validator("legs")
    @classmethod
    def _distinct_legs(cls, v: tuple[Leg, ...]) -> tuple[Leg, ...]:
        if len({leg.leg for leg in v}) != len(v):
            raise ValueError("leg names must be distinct")
        return v


# --- ledger inputs (topic settlement.requests, one partition per ledger shard) ---

class Fund(_Frozen):
    """External liquidity (central bank, nostro top-up); idempotent by ``fund_id``."""

    type: Literal["FUND"] = "FUND"
    account: AccountId
    fund_id: Ident
    currency: Currency
    amount: Decimal
    owner: Ident | None = None
    by: Ident | None = None  # the operator who sent it (the liquidity view, ``router ledger fund --by``)

    @model_validator(mode="after")
    def _valid(self) -> Fund:
        check_amount(self.amount, self.currency)
        return self


class Execute(_Frozen):
    """The condition of a reserved settlement was met: commit its reserved legs (if still held)."""

    type: Literal["EXECUTE"] = "EXECUTE"
    settlement_id: Ident
    uetr: Ident
    condition_id: Ident
    event_id: Ident


class Release(_Frozen):
    """Give a reserved (or liquidity-queued) settlement up: the payer cancelled it."""

    type: Literal["RELEASE"] = "RELEASE"
    settlement_id: Ident
    uetr: Ident
    reason: Annotated[str, Field(pattern=r"^[A-Z0-9]{4}$")]


class SetCap(_Frozen):
    """An operator sets (or, with no amount, removes) a participant's net debit cap; audited on the
    journal (``CapSet``) and idempotent by ``command_id``. Overrides the cap in the settings."""

    type: Literal["SET_CAP"] = "SET_CAP"
    command_id: Ident
    participant: Ident
    amount: Decimal | None = None
    by: Ident

    @model_validator(mode="after")
    def _valid(self) -> SetCap:
        if self.amount is not None and (not self.amount.is_finite() or self.amount < 0):
            raise ValueError("a net debit cap is an amount >= 0")
        return self


LedgerInput = Annotated[SettlementRequest | Fund | Execute | Release | SetCap, Field(discriminator="type")]
LEDGER_INPUT = TypeAdapter[LedgerInput](LedgerInput)


# --- the journal (topic settlement.events): the ledger's own evidence, in booking order ---

class Posting(_Frozen):
    """One booked line of a double entry: the account moved, by how much, and where it landed."""

    account: str
    owner: str
    currency: str
    direction: Literal["DBIT", "CRDT"]
    amount: Decimal
    balance_after: Decimal
    reserved_after: Decimal


class Hold(_Frozen):
    """Funds put aside on (or given back to) an account for a conditional settlement."""

    account: str
    currency: str
    amount: Decimal
    balance_after: Decimal
    reserved_after: Decimal


class Reserved(_Frozen):
    """A conditional settlement's legs reserved until ``hold_until``: the debits are held, not booked.
    Its BOOKED record follows: COMMIT (condition met) or ABORT with the holds ``released``."""

    type: Literal["RESERVED"] = "RESERVED"
    settlement_id: str
    uetr: str
    sender: str
    msg_id: str
    condition_id: str
    hold_until: datetime
    holds: tuple[Hold, ...]
    at: datetime


class Opened(_Frozen):
    """Genesis: an account opened with its opening balance, written once, before any booking on it."""

    type: Literal["OPENED"] = "OPENED"
    account: str
    owner: str
    currency: str
    amount: Decimal
    at: datetime


class Funded(_Frozen):
    """External liquidity booked on an account (once per ``fund_id``)."""

    type: Literal["FUNDED"] = "FUNDED"
    fund_id: str
    posting: Posting
    by: str | None = None  # the operator who sent the funding, when one did
    at: datetime


class Booked(_Frozen):
    """The moment of finality of one settlement: COMMIT with every leg's debit and credit
    posting (both legs in this one record: both or neither), or ABORT with none."""

    type: Literal["BOOKED"] = "BOOKED"
    settlement_id: str
    uetr: str
    sender: str
    msg_id: str
    decision: Literal["COMMIT", "ABORT"]
    reason: str | None = None
    duplicate_of: str | None = None
    postings: tuple[Posting, ...] = ()
    released: tuple[Hold, ...] = ()  # ABORT of a reserved settlement: the holds given back
    condition_event: str | None = None  # COMMIT of a reserved settlement: the event that released it
    # Booked by the liquidity-saving mechanism as one of a set funded on its net: the set's records
    # follow each other and the last says so; balances are only checked at the set's end.
    lsm_run: str | None = None
    lsm_kind: Literal["bilateral", "multilateral"] | None = None  # which pass found the set
    lsm_last: bool = False
    at: datetime


class CapSet(_Frozen):
    """A participant's net debit cap changed (by whom, under which command)."""

    type: Literal["CAP_SET"] = "CAP_SET"
    command_id: str
    participant: str
    amount: Decimal | None
    by: str
    at: datetime


JournalRecord = Annotated[Opened | Funded | Reserved | Booked | CapSet, Field(discriminator="type")]
JOURNAL = TypeAdapter[JournalRecord](JournalRecord)


# --- outcomes (topic settlement.outcomes, key = UETR) ---

class SettlementOutcome(_Frozen):
    """What the sender and the moved accounts' owners must be told.

    ``final`` outcomes: exactly one COMMIT (status ACSC, with every posting) or ABORT (RJCT +
    reason) per settlement. DUPLICATE answers a repeated UETR (RJCT AM05). PENDING (PDNG) tells
    the sender its payment waits in the liquidity queue; RESERVED (PDNG) that a conditional
    payment's legs are held until its condition is met.
    """

    type: Literal["OUTCOME"] = "OUTCOME"
    settlement_id: str
    uetr: str
    sender: str
    msg_id: str
    decision: Literal["COMMIT", "ABORT", "DUPLICATE", "PENDING", "RESERVED"]
    status: Literal["ACSC", "RJCT", "PDNG"]
    final: bool
    reason: str | None = None
    legs_booked: tuple[str, ...] = ()
    postings: tuple[Posting, ...] = ()
    duplicate_of: str | None = None
    at: datetime


OUTCOME = TypeAdapter(SettlementOutcome)
REQUEST = TypeAdapter(SettlementRequest)
