"""The account processor: one account's balance, reservations and liquidity queue.

Pure functions, no Kafka. ``apply(account, entry, command)`` answers one command for one
account. ``entry`` is what the account already did for the command's (settlement id, leg,
role) — that record is the idempotence key: a redelivered command finds its entry and
changes nothing. Invariants kept by every step:

* available = balance - reserved never goes below zero; reserved = sum of RESERVED entries;
* a debit (COMMIT) only consumes a reservation, so it can never overdraw;
* credits and fundings never fail;
* a leg short of funds waits in the account's FIFO queue and is reserved the moment
  liquidity arrives (credit, funding or a released reservation) — first fit, so one large
  payment does not block smaller ones behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from router.outcome import INVALID_CURRENCY
from router.settlement.model import (
    AccountEvent,
    Commit,
    Credit,
    Fund,
    Posting,
    Release,
    Reserve,
)
from router.settlement.settings import AccountOpening

ZERO = Decimal(0)
NOT_RESERVED = "NRSV"  # protocol breach: COMMIT for a leg that holds no reservation

Role = Literal["debit", "credit", "fund"]
EntryStatus = Literal["QUEUED", "RESERVED", "COMMITTED", "RELEASED", "REJECTED", "CREDITED", "FUNDED"]
AccountCmd = Reserve | Commit | Release | Credit | Fund


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Queued(_Frozen):
    settlement_id: str
    leg: str
    amount: Decimal


class AccountState(_Frozen):
    account: str
    owner: str
    currency: str
    balance: Decimal
    reserved: Decimal = ZERO
    queue: tuple[Queued, ...] = ()

    @property
    def available(self) -> Decimal:
        return self.balance - self.reserved


class Entry(_Frozen):
    """What one account did for one (settlement id, leg, role): the idempotence record."""

    account: str
    settlement_id: str
    leg: str
    role: Role
    amount: Decimal
    status: EntryStatus
    # When the stage last wrote this entry (epoch seconds); the retention sweep counts from it.
    # None in changelogs written before entries carried it.
    at: float | None = None


EntryKey = tuple[str, str, str, Role]


@dataclass(frozen=True, slots=True)
class Applied:
    account: AccountState
    entries: tuple[Entry, ...]  # entries created or changed by this step
    events: tuple[AccountEvent, ...]


def open_account(account: str, opening: AccountOpening | None, *, currency: str, owner: str) -> AccountState:
    """An account's state before its first command: the configured opening, else empty."""
    if opening is not None:
        return AccountState(account=account, owner=opening.owner or owner, currency=opening.currency,
                            balance=opening.amount)
    return AccountState(account=account, owner=owner, currency=currency, balance=ZERO)


def entry_key(cmd: AccountCmd) -> EntryKey:
    if isinstance(cmd, Fund):
        return (cmd.account, cmd.fund_id, "", "fund")
    role: Role = "credit" if isinstance(cmd, Credit) else "debit"
    return (cmd.account, cmd.settlement_id, cmd.leg, role)


def command_currency(cmd: AccountCmd) -> str | None:
    return cmd.currency if isinstance(cmd, Reserve | Credit | Fund) else None


def apply(state: AccountState, entry: Entry | None, cmd: AccountCmd) -> Applied:
    """Apply one command to one account. ``entry`` must be the entry at ``entry_key(cmd)``."""
    if isinstance(cmd, Reserve):
        return _reserve(state, entry, cmd)
    if isinstance(cmd, Commit):
        return _commit(state, entry, cmd)
    if isinstance(cmd, Release):
        return _release(state, entry, cmd)
    if isinstance(cmd, Credit):
        return _incoming(state, entry, cmd.settlement_id, cmd.leg, "credit", cmd.currency, cmd.amount)
    return _incoming(state, entry, cmd.fund_id, "", "fund", cmd.currency, cmd.amount)


def _unchanged(state: AccountState) -> Applied:
    return Applied(state, (), ())


def _event(state: AccountState, type_: str, sid: str, leg: str | None, amount: Decimal | None,
           **kw: object) -> AccountEvent:
    return AccountEvent.model_validate({
        "type": type_, "settlement_id": sid, "account": state.account, "leg": leg or None,
        "amount": amount, "currency": state.currency, "available_after": state.available, **kw,
    })


def _posting(state: AccountState, direction: Literal["DBIT", "CRDT"], amount: Decimal) -> Posting:
    return Posting(account=state.account, owner=state.owner, currency=state.currency, direction=direction,
                   amount=amount, balance_after=state.balance, reserved_after=state.reserved)


def _reserve(state: AccountState, entry: Entry | None, cmd: Reserve) -> Applied:
    if entry is not None:
        return _unchanged(state)  # redelivery, or a RESERVE overtaken by its RELEASE
    base = {"account": state.account, "settlement_id": cmd.settlement_id, "leg": cmd.leg, "role": "debit",
            "amount": cmd.amount}
    if cmd.currency != state.currency or cmd.amount <= 0:
        rejected = Entry.model_validate({**base, "status": "REJECTED"})
        ev = _event(state, "REJECTED", cmd.settlement_id, cmd.leg, cmd.amount, reason=INVALID_CURRENCY)
        return Applied(state, (rejected,), (ev,))
    if state.available >= cmd.amount:
        new = state.model_copy(update={"reserved": state.reserved + cmd.amount})
        ev = _event(new, "RESERVED", cmd.settlement_id, cmd.leg, cmd.amount)
        return Applied(new, (Entry.model_validate({**base, "status": "RESERVED"}),), (ev,))
    q = Queued(settlement_id=cmd.settlement_id, leg=cmd.leg, amount=cmd.amount)
    new = state.model_copy(update={"queue": (*state.queue, q)})
    ev = _event(new, "INSUFFICIENT", cmd.settlement_id, cmd.leg, cmd.amount)
    return Applied(new, (Entry.model_validate({**base, "status": "QUEUED"}),), (ev,))


def _commit(state: AccountState, entry: Entry | None, cmd: Commit) -> Applied:
    if entry is not None and entry.status == "COMMITTED":
        return _unchanged(state)
    if entry is None or entry.status != "RESERVED":
        # The coordinator only commits legs it saw RESERVED; reaching here is a bug elsewhere,
        # reported as an event so `router ledger check` shows it instead of booking blindly.
        ev = _event(state, "REJECTED", cmd.settlement_id, cmd.leg, None, reason=NOT_RESERVED)
        return Applied(state, (), (ev,))
    new = state.model_copy(update={"balance": state.balance - entry.amount,
                                   "reserved": state.reserved - entry.amount})
    done = entry.model_copy(update={"status": "COMMITTED"})
    ev = _event(new, "COMMITTED", cmd.settlement_id, cmd.leg, entry.amount,
                posting=_posting(new, "DBIT", entry.amount))
    return Applied(new, (done,), (ev,))


def _release(state: AccountState, entry: Entry | None, cmd: Release) -> Applied:
    if entry is None:
        # Released before it was ever reserved (abort raced the RESERVE): remember, so a late
        # RESERVE finds this entry and does nothing.
        tomb = Entry(account=state.account, settlement_id=cmd.settlement_id, leg=cmd.leg, role="debit",
                     amount=ZERO, status="RELEASED")
        return Applied(state, (tomb,), ())
    if entry.status == "QUEUED":
        queue = tuple(q for q in state.queue if not (q.settlement_id == cmd.settlement_id and q.leg == cmd.leg))
        new = state.model_copy(update={"queue": queue})
        done = entry.model_copy(update={"status": "RELEASED"})
        return Applied(new, (done,), (_event(new, "RELEASED", cmd.settlement_id, cmd.leg, entry.amount),))
    if entry.status == "RESERVED":
        new = state.model_copy(update={"reserved": state.reserved - entry.amount})
        done = entry.model_copy(update={"status": "RELEASED"})
        ev = _event(new, "RELEASED", cmd.settlement_id, cmd.leg, entry.amount)
        return _drain_queue(new, (done,), (ev,))
    return _unchanged(state)  # already released, rejected or (never) committed


def _incoming(state: AccountState, entry: Entry | None, sid: str, leg: str, role: Role, currency: str,
              amount: Decimal) -> Applied:
    if entry is not None:
        return _unchanged(state)
    base = {"account": state.account, "settlement_id": sid, "leg": leg, "role": role, "amount": amount}
    if currency != state.currency or amount <= 0:
        # The coordinator checks currencies before it reserves, so this is a misconfiguration;
        # booking it would break per-currency conservation, so refuse it visibly.
        bad = Entry.model_validate({**base, "status": "REJECTED"})
        return Applied(state, (bad,), (_event(state, "REJECTED", sid, leg, amount, reason=INVALID_CURRENCY),))
    new = state.model_copy(update={"balance": state.balance + amount})
    status: EntryStatus = "CREDITED" if role == "credit" else "FUNDED"
    ev = _event(new, status, sid, leg, amount, posting=_posting(new, "CRDT", amount))
    return _drain_queue(new, (Entry.model_validate({**base, "status": status}),), (ev,))


def _drain_queue(state: AccountState, entries: tuple[Entry, ...], events: tuple[AccountEvent, ...]) -> Applied:
    """Liquidity arrived: reserve queued legs in arrival order, each one that now fits."""
    if not state.queue:
        return Applied(state, entries, events)
    reserved = state.reserved
    left: list[Queued] = []
    new_entries = list(entries)
    new_events = list(events)
    for q in state.queue:
        if state.balance - reserved >= q.amount:
            reserved += q.amount
            new_entries.append(Entry(account=state.account, settlement_id=q.settlement_id, leg=q.leg,
                                     role="debit", amount=q.amount, status="RESERVED"))
            new_events.append(AccountEvent.model_validate({
                "type": "RESERVED", "settlement_id": q.settlement_id, "account": state.account, "leg": q.leg,
                "amount": q.amount, "currency": state.currency, "available_after": state.balance - reserved,
            }))
        else:
            left.append(q)
    new = state.model_copy(update={"reserved": reserved, "queue": tuple(left)})
    return Applied(new, tuple(new_entries), tuple(new_events))
