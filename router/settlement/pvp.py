"""Payment-versus-payment on one ledger shard: both legs booked in one step, or neither.

Every account of a shard lives in one task (``router.settlement.book``), so a settlement needs
no protocol across partitions: the task checks that every debit account can pay its leg and,
if so, books every leg's debit and credit at once. The decision, with all of its postings, is
one journal record (``Booked``): that record is the moment of finality. This is TigerBeetle's
answer to hot accounts: every payment touches the same few FX-provider and nostro accounts, so
sharding them buys nothing, while batching many settlements into one Kafka transaction buys
everything.

A settlement that cannot be paid now waits in the shard's liquidity queue (PDNG to the sender)
for at most ``liquidity_max_wait_s`` and never past its deadline. Queue rules:

* served in arrival order; a queued settlement that does not fit is passed over for later,
  smaller ones that do (FIFO with bypass), so one large payment never blocks the queue;
* looked at again whenever an account it debits is credited (a booking or a funding);
* a settlement still queued at its queue deadline is rejected (AM04): nothing waits forever.

Duplicates: a settlement id already seen gets a DUPLICATE answer and moves nothing; a sender's
MsgId already used by another settlement aborts the newcomer (AM05).

Pure apart from the ``Book`` it is handed: each function reads and writes the book and returns
the journal records and outcomes to send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import msgspec

from router.outcome import DUPLICATE, INSUFFICIENT_FUNDS, INVALID_CURRENCY, TIMEOUT
from router.settlement.book import ZERO, Book, Funding, LedgerAccount, SettlementReceipt
from router.settlement.model import (
    Booked,
    Fund,
    Funded,
    Leg,
    Opened,
    Posting,
    SettlementOutcome,
    SettlementRequest,
)
from router.settlement.settings import AccountOpening


@dataclass(frozen=True, slots=True)
class Policy:
    pvp_deadline_s: float
    liquidity_max_wait_s: float
    owner_of: Callable[[str], str]  # the owner of an account opened by its first credit


@dataclass
class Effects:
    """What one step asks the wiring to send."""

    journal: list[Opened | Funded | Booked] = field(default_factory=list)
    outcomes: list[SettlementOutcome] = field(default_factory=list)
    refused: str | None = None  # set when the input itself is unusable (it goes to the DLQ)

    def extend(self, other: Effects) -> None:
        self.journal += other.journal
        self.outcomes += other.outcomes


def _ts(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def currency_of(book: Book, account: str) -> str:
    """An account's currency: as opened, else the suffix of its id (``OWNER/CCY``)."""
    a = book.accounts.get(account)
    return a.currency if a is not None else account.rsplit("/", 1)[-1]


# --- genesis and funding ------------------------------------------------------------------

def open_accounts(book: Book, openings: Mapping[str, AccountOpening], now: float,
                  owner_of: Callable[[str], str]) -> Effects:
    """Open every configured account the book does not hold yet, each with one OPENED record.

    Opening balances are thereby on the journal: the ledger can be audited from Kafka alone.
    An opening changed in the settings later does not rewrite an account already opened.
    """
    fx = Effects()
    for account, o in sorted(openings.items()):
        if account not in book.accounts:
            fx.journal.append(_open(book, account, o.owner or owner_of(account), o.currency, o.amount, now))
    book.opened = True
    return fx


def _open(book: Book, account: str, owner: str, currency: str, amount: Decimal, now: float) -> Opened:
    book.put_account(LedgerAccount(account=account, owner=owner, currency=currency, balance=amount))
    return Opened(account=account, owner=owner, currency=currency, amount=amount, at=_ts(now))


def fund(book: Book, cmd: Fund, now: float, policy: Policy) -> Effects:
    """External liquidity, booked once per fund id; the queue is looked at again."""
    if cmd.fund_id in book.funds:
        return Effects()
    fx = Effects()
    account = book.accounts.get(cmd.account)
    if account is None:
        fx.journal.append(_open(book, cmd.account, cmd.owner or policy.owner_of(cmd.account), cmd.currency, ZERO,
                                now))
        account = book.accounts[cmd.account]
    if account.currency != cmd.currency:
        return Effects(refused=f"{INVALID_CURRENCY}: {cmd.account} holds {account.currency}, funding is in "
                               f"{cmd.currency}")
    credited = _move(book, cmd.account, cmd.amount)
    book.put_funding(cmd.fund_id, Funding(account=cmd.account, at=now))
    fx.journal.append(Funded(fund_id=cmd.fund_id, posting=_posting(credited, "CRDT", cmd.amount), at=_ts(now)))
    fx.extend(drain(book, now, policy, {cmd.account}))
    return fx


# --- settling -------------------------------------------------------------------------------

def settle(book: Book, req: SettlementRequest, now: float, policy: Policy, raw: bytes = b"") -> Effects:
    """Decide a new settlement request: COMMIT both legs now, queue it, or ABORT it.

    ``raw`` is the request as received; a queued request keeps it to be decided later.
    """
    seen = book.receipts.get(req.settlement_id)
    if seen is not None:
        book.put_receipt(_replace(seen, duplicates=seen.duplicates + 1))
        return Effects(outcomes=[duplicate_answer(req, seen.settlement_id, now)])
    receipt = SettlementReceipt(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                      status="QUEUED", at=now, seq=book.next_seq())
    claimed = book.claims.get((req.sender, req.msg_id))
    if claimed is not None:
        return _abort(book, receipt, DUPLICATE, now, duplicate_of=claimed)
    problem = next((p for leg in req.legs if (p := _currency_problem(book, leg))), None)
    if problem is not None:
        return _abort(book, receipt, INVALID_CURRENCY, now)
    deadline = now + policy.pvp_deadline_s
    if req.deadline is not None:
        deadline = min(deadline, req.deadline.timestamp())
    if now >= deadline:
        return _abort(book, receipt, TIMEOUT, now)
    if _fundable(book, req.legs):
        return _commit(book, receipt, req, now, policy)
    if policy.liquidity_max_wait_s <= 0:
        return _abort(book, receipt, INSUFFICIENT_FUNDS, now)
    queued = _replace(receipt, queued_until=min(now + policy.liquidity_max_wait_s, deadline),
                      request=raw or req.model_dump_json().encode())
    book.put_receipt(queued, req)
    return Effects(outcomes=[_outcome(queued, now, decision="PENDING", status="PDNG", final=False,
                                      reason=INSUFFICIENT_FUNDS)])


def drain(book: Book, now: float, policy: Policy, credited: Iterable[str]) -> Effects:
    """Liquidity arrived on ``credited``: book the queued settlements that now fit, in arrival order."""
    fx = Effects()
    touched = set(credited)
    while touched and book.queue:
        candidates = [sid for sid in book.queue
                      if any(leg.debit_account in touched for leg in book.waiting[sid].legs)]
        touched = set()
        for sid in candidates:
            r = book.queue.get(sid)
            if r is None:
                continue
            req = book.waiting[sid]
            if r.queued_until is not None and now >= r.queued_until:
                continue  # expired: ``expire`` rejects it
            if _fundable(book, req.legs):
                step = _commit(book, r, req, now, policy)
                fx.extend(step)
                touched |= {leg.credit_account for leg in req.legs}
    return fx


def expire(book: Book, now: float) -> Effects:
    """Reject every queued settlement whose queue deadline has passed (AM04)."""
    fx = Effects()
    for r in [r for r in book.queue.values() if r.queued_until is not None and now >= r.queued_until]:
        fx.extend(_abort(book, r, INSUFFICIENT_FUNDS, now))
    return fx


def sweep(book: Book, now: float, retention_s: float, budget: int) -> int:
    """Forget decided settlements and fundings older than the retention (a bounded batch)."""
    dropped = 0
    for sid in [sid for sid, r in book.receipts.items() if r.status != "QUEUED" and r.at + retention_s <= now]:
        if dropped >= budget:
            return dropped
        book.drop_receipt(sid)
        dropped += 1
    for fid in [fid for fid, f in book.funds.items() if f.at + retention_s <= now]:
        if dropped >= budget:
            return dropped
        book.put_funding(fid, None)
        dropped += 1
    return dropped


def duplicate_answer(req: SettlementRequest, of: str, now: float) -> SettlementOutcome:
    """What a request for a settlement id already seen gets: never a second settlement."""
    return SettlementOutcome(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                   decision="DUPLICATE", status="RJCT", final=False, reason=DUPLICATE, duplicate_of=of, at=_ts(now))


# --- helpers ----------------------------------------------------------------------------------

def _replace(r: SettlementReceipt, **changes: object) -> SettlementReceipt:
    return msgspec.structs.replace(r, **changes)


def _currency_problem(book: Book, leg: Leg) -> str | None:
    for account in (leg.debit_account, leg.credit_account):
        ccy = currency_of(book, account)
        if ccy != leg.currency:
            return f"{account} holds {ccy}, leg {leg.leg} is in {leg.currency}"
    return None


def _fundable(book: Book, legs: Iterable[Leg]) -> bool:
    need: dict[str, Decimal] = {}
    for leg in legs:
        need[leg.debit_account] = need.get(leg.debit_account, ZERO) + leg.amount
    for account, amount in need.items():
        a = book.accounts.get(account)
        if a is None or a.available < amount:
            return False
    return True


def _move(book: Book, account: str, delta: Decimal) -> LedgerAccount:
    a = book.accounts[account]
    moved = LedgerAccount(account=a.account, owner=a.owner, currency=a.currency, balance=a.balance + delta,
                    reserved=a.reserved)
    book.put_account(moved)
    return moved


def _posting(a: LedgerAccount, direction: Literal["DBIT", "CRDT"], amount: Decimal) -> Posting:
    return Posting(account=a.account, owner=a.owner, currency=a.currency, direction=direction, amount=amount,
                   balance_after=a.balance, reserved_after=a.reserved)


def _commit(book: Book, receipt: SettlementReceipt, req: SettlementRequest, now: float, policy: Policy) -> Effects:
    fx = Effects()
    postings: list[Posting] = []
    for leg in req.legs:
        postings.append(_posting(_move(book, leg.debit_account, -leg.amount), "DBIT", leg.amount))
        if leg.credit_account not in book.accounts:
            fx.journal.append(_open(book, leg.credit_account, policy.owner_of(leg.credit_account), leg.currency,
                                    ZERO, now))
        postings.append(_posting(_move(book, leg.credit_account, leg.amount), "CRDT", leg.amount))
    done = _replace(receipt, status="COMMIT", at=now, queued_until=None, request=None)
    book.put_receipt(done)
    fx.journal.append(Booked(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                             decision="COMMIT", postings=tuple(postings), at=_ts(now)))
    fx.outcomes.append(_outcome(done, now, decision="COMMIT", status="ACSC", final=True,
                                legs_booked=tuple(leg.leg for leg in req.legs), postings=tuple(postings)))
    if book.queue:
        fx.extend(drain(book, now, policy, {leg.credit_account for leg in req.legs}))
    return fx


def _abort(book: Book, receipt: SettlementReceipt, reason: str, now: float, *,
           duplicate_of: str | None = None) -> Effects:
    done = _replace(receipt, status="ABORT", at=now, reason=reason, duplicate_of=duplicate_of, queued_until=None,
                    request=None)
    book.put_receipt(done)
    booked = Booked(settlement_id=done.settlement_id, uetr=done.uetr, sender=done.sender, msg_id=done.msg_id,
                    decision="ABORT", reason=reason, duplicate_of=duplicate_of, at=_ts(now))
    out = _outcome(done, now, decision="ABORT", status="RJCT", final=True, reason=reason, duplicate_of=duplicate_of)
    return Effects(journal=[booked], outcomes=[out])


def _outcome(r: SettlementReceipt, now: float, **kw: object) -> SettlementOutcome:
    return SettlementOutcome.model_validate({"settlement_id": r.settlement_id, "uetr": r.uetr, "sender": r.sender,
                                   "msg_id": r.msg_id, "at": _ts(now), **kw})
