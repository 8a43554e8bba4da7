"""Settlement records: requests, account commands, events and outcomes (JSON on Kafka).

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

    @field_validator("legs")
    @classmethod
    def _distinct_legs(cls, v: tuple[Leg, ...]) -> tuple[Leg, ...]:
        if len({leg.leg for leg in v}) != len(v):
            raise ValueError("leg names must be distinct")
        return v


# --- commands to the account processor (topic settlement.commands, key = account id) ---

class Reserve(_Frozen):
    type: Literal["RESERVE"] = "RESERVE"
    account: AccountId
    settlement_id: Ident
    leg: LegName
    currency: Currency
    amount: Decimal


class Commit(_Frozen):
    type: Literal["COMMIT"] = "COMMIT"
    account: AccountId
    settlement_id: Ident
    leg: LegName


class Release(_Frozen):
    type: Literal["RELEASE"] = "RELEASE"
    account: AccountId
    settlement_id: Ident
    leg: LegName


class Credit(_Frozen):
    type: Literal["CREDIT"] = "CREDIT"
    account: AccountId
    settlement_id: Ident
    leg: LegName
    currency: Currency
    amount: Decimal


class Fund(_Frozen):
    """External liquidity (central bank, nostro top-up); idempotent by ``fund_id``."""

    type: Literal["FUND"] = "FUND"
    account: AccountId
    fund_id: Ident
    currency: Currency
    amount: Decimal
    owner: Ident | None = None

    @model_validator(mode="after")
    def _valid(self) -> Fund:
        check_amount(self.amount, self.currency)
        return self


class Claim(_Frozen):
    """First-come claim of (sender, MsgId) by a settlement; key = claim_key(sender, msg_id)."""

    type: Literal["CLAIM"] = "CLAIM"
    sender: Ident
    msg_id: Ident
    settlement_id: Ident


AccountCommand = Annotated[Reserve | Commit | Release | Credit | Fund | Claim, Field(discriminator="type")]
COMMAND = TypeAdapter[AccountCommand](AccountCommand)


def claim_key(sender: str, msg_id: str) -> str:
    """The settlement.commands key of a MsgId claim (never a valid account id: it holds '|')."""
    return f"msgid|{sender}|{msg_id}"


def command_key(cmd: Reserve | Commit | Release | Credit | Fund | Claim) -> str:
    return claim_key(cmd.sender, cmd.msg_id) if isinstance(cmd, Claim) else cmd.account


# --- events (topic settlement.events, key = settlement id) ---

class Posting(_Frozen):
    """One booked line of a double entry: the account moved, by how much, and where it landed."""

    account: str
    owner: str
    currency: str
    direction: Literal["DBIT", "CRDT"]
    amount: Decimal
    balance_after: Decimal
    reserved_after: Decimal


EventType = Literal[
    "RESERVED", "INSUFFICIENT", "REJECTED", "COMMITTED", "CREDITED", "RELEASED", "FUNDED",
    "CLAIMED", "CLAIM_DUPLICATE",
]


class AccountEvent(_Frozen):
    """An account processor's answer. ``settlement_id`` is the fund id for FUNDED."""

    type: EventType
    settlement_id: str
    account: str
    leg: LegName | None = None
    amount: Decimal | None = None
    currency: str | None = None
    reason: str | None = None
    posting: Posting | None = None
    available_after: Decimal | None = None
    duplicate_of: str | None = None


class Decision(_Frozen):
    """The moment of finality: exactly one per settlement."""

    type: Literal["DECISION"] = "DECISION"
    settlement_id: str
    uetr: str
    decision: Literal["COMMIT", "ABORT"]
    reason: str | None = None
    decided_at: datetime


SettlementEvent = Annotated[AccountEvent | Decision, Field(discriminator="type")]
EVENT = TypeAdapter[SettlementEvent](SettlementEvent)


# --- outcomes (topic settlement.outcomes, key = UETR) ---

class SettlementOutcome(_Frozen):
    """What the sender and the moved accounts' owners must be told.

    ``final`` outcomes: exactly one COMMIT (status ACSC, with every posting) or ABORT (RJCT +
    reason) per settlement. DUPLICATE answers a repeated UETR (RJCT AM05). PENDING (PDNG) tells
    the sender its payment waits in the liquidity queue.
    """

    type: Literal["OUTCOME"] = "OUTCOME"
    settlement_id: str
    uetr: str
    sender: str
    msg_id: str
    decision: Literal["COMMIT", "ABORT", "DUPLICATE", "PENDING"]
    status: Literal["ACSC", "RJCT", "PDNG"]
    final: bool
    reason: str | None = None
    legs_booked: tuple[str, ...] = ()
    postings: tuple[Posting, ...] = ()
    duplicate_of: str | None = None
    at: datetime


OUTCOME = TypeAdapter(SettlementOutcome)
REQUEST = TypeAdapter(SettlementRequest)
