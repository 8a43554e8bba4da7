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

Conditional (programmable) settlements: a request with a ``condition_id`` and ``hold_until`` is
not booked but RESERVED when its legs can be paid: each debit account's ``reserved`` grows by its
leg, a ``Reserved`` journal record lists the holds, and the sender hears PDNG. Exactly one of
three things then ends the hold, in whatever order the ledger sees them (the ledger's own clock
decides a race, and the journal shows which won):

* an EXECUTE for the condition before ``hold_until``: both legs booked from the reservation
  (``Booked`` COMMIT naming the condition event);
* ``hold_until`` passing (the timer, or an EXECUTE arriving after it): the holds are released
  (``Booked`` ABORT, TM01, with the ``released`` holds);
* a RELEASE (the payer cancelled): the same, with the cancellation's reason.

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

from router.outcome import CONDITION_EXPIRED, DUPLICATE, INSUFFICIENT_FUNDS, INVALID_CURRENCY, TIMEOUT
from router.settlement import lsm
from router.settlement.book import ZERO, Book, Cap, Funding, LedgerAccount, SettlementReceipt
from router.settlement.model import (
    Booked,
    CapSet,
    Execute,
    Fund,
    Funded,
    Hold,
    Leg,
    Opened,
    Posting,
    Release,
    Reserved,
    SetCap,
    SettlementOutcome,
    SettlementRequest,
)
from router.settlement.settings import AccountOpening


@dataclass(frozen=True)
class Policy:
    pvp_deadline_s: float
    liquidity_max_wait_s: float
    owner_of: Callable[[str], str]  # the owner of an account opened by its first credit
    # participant -> the most its accounts may be net debited by settlements (in each account's currency)
    net_debit_caps: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass
class Effects:
    """What one step asks the wiring to send."""

    journal: list[Opened | Funded | Reserved | Booked | CapSet] = field(default_factory=list)
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
    fx.journal.append(Funded(fund_id=cmd.fund_id, posting=_posting(credited, "CRDT", cmd.amount), by=cmd.by,
                             at=_ts(now)))
    fx.extend(drain(book, now, policy, {cmd.account}))
    return fx


# --- settling -------------------------------------------------------------------------------

def settle(book: Book, req: SettlementRequest, now: float, policy: Policy, raw: bytes = b"") -> Effects:
    """Decide a new settlement request: COMMIT both legs now, queue it, or ABORT it.

    ``raw`` is the request as received; a queued request keeps it to be decided later.
    """
    seen = book.receipt(req.settlement_id)
    if seen is not None:
        book.put_receipt(_replace(seen, duplicates=seen.duplicates + 1))
        return Effects(outcomes=[duplicate_answer(req, seen.settlement_id, now)])
    receipt = SettlementReceipt(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                      status="QUEUED", at=now, seq=book.next_seq())
    claimed = book.claim(req.sender, req.msg_id)
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
    if req.hold_until is not None:
        if now >= req.hold_until.timestamp():
            return _abort(book, receipt, CONDITION_EXPIRED, now)
        deadline = min(deadline, req.hold_until.timestamp())
    if _fundable(book, req.legs, policy):
        return _decide(book, receipt, req, now, policy, raw)
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
    # book.queue is read afresh each time: the book may put its queue back in order as a new dict.
    while touched and book.queue:
        found = {sid for account in touched for sid in book.queued_by_debit.get(account, ())}
        candidates = sorted(found, key=lambda sid: book.queue[sid].seq)  # arrival order
        touched = set()
        for sid in candidates:
            r = book.queue.get(sid)
            if r is None:
                continue
            req = book.waiting[sid]
            if r.queued_until is not None and now >= r.queued_until:
                continue  # expired: ``expire`` rejects it
            if _fundable(book, req.legs, policy):
                step = _decide(book, r, req, now, policy, r.request or b"", drain_after=False)
                fx.extend(step)
                touched |= {leg.credit_account for leg in req.legs}
    return fx


def expire(book: Book, now: float, policy: Policy | None = None) -> Effects:
    """Reject every queued settlement whose queue deadline has passed (AM04, or TM01 for a
    conditional one past its hold), and release every reservation whose hold has passed (TM01).
    With ``policy``, the released funds are offered to the queue at once."""
    fx = Effects()
    for r in [r for r in book.queue.values() if r.queued_until is not None and now >= r.queued_until]:
        past_hold = book.waiting[r.settlement_id].hold_until
        expired = past_hold is not None and now >= past_hold.timestamp()
        fx.extend(_abort(book, r, CONDITION_EXPIRED if expired else INSUFFICIENT_FUNDS, now))
    for r in [r for r in book.reserved.values() if r.hold_until is not None and now >= r.hold_until]:
        fx.extend(_release(book, r, CONDITION_EXPIRED, now, policy))
    return fx


def execute(book: Book, cmd: Execute, now: float, policy: Policy) -> Effects:
    """The condition was met: book the reserved legs, unless the hold has ended first.

    A hold already past ``hold_until`` is released here (expiry won the race); an EXECUTE that
    finds nothing to execute is refused (it goes to the DLQ with the reason), after any release.
    """
    r = book.receipt(cmd.settlement_id)
    if r is None:
        return Effects(refused=f"no settlement {cmd.settlement_id} to execute")
    if r.status != "RESERVED":
        return Effects(refused=f"settlement {cmd.settlement_id} is {r.status}, not reserved: event {cmd.event_id} "
                               f"comes too late")
    req = book.held[cmd.settlement_id]
    if req.condition_id != cmd.condition_id:
        return Effects(refused=f"settlement {cmd.settlement_id} waits for condition {req.condition_id}, "
                               f"not {cmd.condition_id}")
    if r.hold_until is not None and now >= r.hold_until:
        fx = _release(book, r, CONDITION_EXPIRED, now, policy)
        fx.refused = f"condition {cmd.condition_id} expired before event {cmd.event_id} reached the ledger"
        return fx
    return _commit(book, r, req, now, policy, from_reservation=True, event_id=cmd.event_id)


def release(book: Book, cmd: Release, now: float, policy: Policy) -> Effects:
    """The payer gave up a settlement not yet booked: release its holds (or leave the queue)."""
    r = book.receipt(cmd.settlement_id)
    if r is None:
        return Effects(refused=f"no settlement {cmd.settlement_id} to release")
    if r.status == "RESERVED":
        return _release(book, r, cmd.reason, now, policy)
    if r.status == "QUEUED":
        return _abort(book, r, cmd.reason, now)
    return Effects()  # already decided: the decision stands and has been told


def sweep(book: Book, now: float, retention_s: float, budget: int) -> int:
    """Forget decided settlements and fundings older than the retention (a bounded batch, the
    oldest first)."""
    dropped = 0
    for sid in book.decided_by_age(now - retention_s):
        if dropped >= budget:
            return dropped
        r = book.receipt(sid)
        if r is None or r.status not in ("COMMIT", "ABORT") or r.at + retention_s > now:
            continue
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


def _fundable(book: Book, legs: Iterable[Leg], policy: Policy | None = None) -> bool:
    need: dict[str, Decimal] = {}
    for leg in legs:
        need[leg.debit_account] = need.get(leg.debit_account, ZERO) + leg.amount
    for account, amount in need.items():
        a = book.accounts.get(account)
        if a is None or a.available < amount:
            return False
        cap = net_debit_cap(book, policy, a.owner)
        # Held legs become debits when their condition is met: they count against the cap now.
        if cap is not None and a.net - a.reserved - amount < -cap:
            return False
    return True


def headroom(book: Book, policy: Policy) -> dict[str, Decimal]:
    """What each capped account may still be net debited: its owner's cap plus its net position,
    less what conditional holds will debit."""
    out: dict[str, Decimal] = {}
    for a in book.accounts.values():
        cap = net_debit_cap(book, policy, a.owner)
        if cap is not None:
            out[a.account] = cap + a.net - a.reserved
    return out


def net_debit_cap(book: Book, policy: Policy | None, participant: str) -> Decimal | None:
    """The cap in force: an operator's (``set_cap``) over the settings'."""
    c = book.caps.get(participant)
    if c is not None:
        return c.amount if c.amount is not None else (policy.net_debit_caps.get(participant) if policy else None)
    return policy.net_debit_caps.get(participant) if policy is not None else None


def set_cap(book: Book, cmd: SetCap, now: float, policy: Policy) -> Effects:
    """An operator's cap change: kept in the book, journaled; the queue is looked at again (a
    raised cap can let queued settlements through). Idempotent by command id."""
    seen = book.caps.get(cmd.participant)
    if seen is not None and seen.command_id == cmd.command_id:
        return Effects()
    book.put_cap(cmd.participant, Cap(amount=cmd.amount, command_id=cmd.command_id, by=cmd.by, at=now))
    fx = Effects(journal=[CapSet(command_id=cmd.command_id, participant=cmd.participant, amount=cmd.amount,
                                 by=cmd.by, at=_ts(now))])
    fx.extend(drain(book, now, policy, {a.account for a in book.accounts.values() if a.owner == cmd.participant}))
    return fx


# --- liquidity-saving mechanism -----------------------------------------------------------------

@dataclass
class OffsetRun:
    kind: Literal["bilateral", "multilateral"]
    settlements: int
    at: float


LSM_SEEDS = 8  # seeded passes per LSM run and group: the oldest queued settlements first
# Each pass is one greedy search, quadratic in the queue (~5 ms at 400 queued, ~0.13 s at 2,000):
# past this many candidates the seeded passes are skipped, so that the ledger's one task keeps
# booking while a deep queue waits.
LSM_SEED_MAX_QUEUE = 400


def offset(book: Book, now: float, policy: Policy, runs: list[OffsetRun] | None = None) -> Effects:
    """Book queued settlements that fund each other on their net (bilateral first, then one
    multilateral pass, then passes seeded on the oldest still queued); see ``router.settlement.lsm``.
    Each set is searched against the balances left by the sets before it. ``runs`` collects what
    each run booked."""
    fx = Effects()

    def candidates() -> list[tuple[str, SettlementRequest]]:
        return [(sid, book.waiting[sid]) for sid, r in book.queue.items()
                if book.waiting[sid].hold_until is None and (r.queued_until is None or now < r.queued_until)]

    items = candidates()
    if len(items) < 2:
        return fx
    credited: set[str] = set()

    def book_set(kind: Literal["bilateral", "multilateral"], group: list[tuple[str, SettlementRequest]],
                 pinned: str | None = None) -> None:
        chosen = lsm.offset_set({a: acc.available for a, acc in book.accounts.items()}, group,
                                headroom(book, policy) if policy.net_debit_caps or book.caps else None, pinned=pinned)
        if len(chosen) < 2:
            return
        run = f"LSM-{book.next_seq()}"
        for i, sid in enumerate(chosen):
            req = book.waiting[sid]
            fx.extend(_commit(book, book.queue[sid], req, now, policy, lsm_run=run, lsm_kind=kind,
                              lsm_last=i == len(chosen) - 1))
            credited.update(leg.credit_account for leg in req.legs)
        if runs is not None:
            runs.append(OffsetRun(kind, len(chosen), now))

    def seeded(kind: Literal["bilateral", "multilateral"], within: set[str] | None) -> None:
        tried: set[str] = set()
        for _ in range(LSM_SEEDS):
            rest = [(sid, req) for sid, req in candidates() if within is None or sid in within]
            seed = next((sid for sid, _ in rest if sid not in tried), None)
            if seed is None or not 2 <= len(rest) <= LSM_SEED_MAX_QUEUE:
                return
            tried.add(seed)
            book_set(kind, rest, pinned=seed)

    for group in lsm.bilateral_groups(items):
        book_set("bilateral", group)
        seeded("bilateral", {sid for sid, _ in group})
    book_set("multilateral", candidates())
    seeded("multilateral", None)
    if credited and book.queue:
        fx.extend(drain(book, now, policy, credited))
    return fx


def _move(book: Book, account: str, delta: Decimal, reserved_delta: Decimal = ZERO, *,
          settled: bool = False) -> LedgerAccount:
    a = book.accounts[account]
    moved = LedgerAccount(account=a.account, owner=a.owner, currency=a.currency, balance=a.balance + delta,
                    reserved=a.reserved + reserved_delta, net=a.net + delta if settled else a.net)
    book.put_account(moved)
    return moved


def _hold(a: LedgerAccount, amount: Decimal) -> Hold:
    return Hold(account=a.account, currency=a.currency, amount=amount, balance_after=a.balance,
                reserved_after=a.reserved)


def _decide(book: Book, receipt: SettlementReceipt, req: SettlementRequest, now: float, policy: Policy,
            raw: bytes, *, drain_after: bool = True) -> Effects:
    """A fundable settlement: booked now, or reserved when it waits for a condition."""
    if req.hold_until is None or req.condition_id is None:
        return _commit(book, receipt, req, now, policy, drain_after=drain_after)
    holds = [_hold(_move(book, leg.debit_account, ZERO, leg.amount), leg.amount) for leg in req.legs]
    held = _replace(receipt, status="RESERVED", at=now, queued_until=None, hold_until=req.hold_until.timestamp(),
                    request=raw or req.model_dump_json().encode())
    book.put_receipt(held, req)
    rec = Reserved(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                   condition_id=req.condition_id, hold_until=req.hold_until, holds=tuple(holds), at=_ts(now))
    out = _outcome(held, now, decision="RESERVED", status="PDNG", final=False)
    return Effects(journal=[rec], outcomes=[out])


def _release(book: Book, r: SettlementReceipt, reason: str, now: float, policy: Policy | None) -> Effects:
    req = book.held[r.settlement_id]
    released = tuple(_hold(_move(book, leg.debit_account, ZERO, -leg.amount), leg.amount) for leg in req.legs)
    fx = _abort(book, r, reason, now, released=released)
    if policy is not None and book.queue:
        fx.extend(drain(book, now, policy, {leg.debit_account for leg in req.legs}))
    return fx


def _posting(a: LedgerAccount, direction: Literal["DBIT", "CRDT"], amount: Decimal) -> Posting:
    return Posting(account=a.account, owner=a.owner, currency=a.currency, direction=direction, amount=amount,
                   balance_after=a.balance, reserved_after=a.reserved)


def _commit(book: Book, receipt: SettlementReceipt, req: SettlementRequest, now: float, policy: Policy, *,
            from_reservation: bool = False, event_id: str | None = None, lsm_run: str | None = None,
            lsm_kind: Literal["bilateral", "multilateral"] | None = None, lsm_last: bool = False,
            drain_after: bool = True) -> Effects:
    fx = Effects()
    postings: list[Posting] = []
    for leg in req.legs:
        held = -leg.amount if from_reservation else ZERO
        postings.append(_posting(_move(book, leg.debit_account, -leg.amount, held, settled=True), "DBIT",
                                 leg.amount))
        if leg.credit_account not in book.accounts:
            fx.journal.append(_open(book, leg.credit_account, policy.owner_of(leg.credit_account), leg.currency,
                                    ZERO, now))
        postings.append(_posting(_move(book, leg.credit_account, leg.amount, settled=True), "CRDT", leg.amount))
    done = _replace(receipt, status="COMMIT", at=now, queued_until=None, request=None, hold_until=None)
    book.put_receipt(done)
    fx.journal.append(Booked(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                             decision="COMMIT", postings=tuple(postings), condition_event=event_id,
                             lsm_run=lsm_run, lsm_kind=lsm_kind, lsm_last=lsm_last, at=_ts(now)))
    fx.outcomes.append(_outcome(done, now, decision="COMMIT", status="ACSC", final=True,
                                legs_booked=tuple(leg.leg for leg in req.legs), postings=tuple(postings)))
    # The credits may let queued settlements through. An LSM set drains once, after its last
    # booking; ``drain`` itself follows the credits of what it books (``drain_after=False``).
    if drain_after and book.queue and lsm_run is None:
        fx.extend(drain(book, now, policy, {leg.credit_account for leg in req.legs}))
    return fx


def _abort(book: Book, receipt: SettlementReceipt, reason: str, now: float, *, duplicate_of: str | None = None,
           released: tuple[Hold, ...] = ()) -> Effects:
    done = _replace(receipt, status="ABORT", at=now, reason=reason, duplicate_of=duplicate_of, queued_until=None,
                    request=None, hold_until=None)
    book.put_receipt(done)
    booked = Booked(settlement_id=done.settlement_id, uetr=done.uetr, sender=done.sender, msg_id=done.msg_id,
                    decision="ABORT", reason=reason, duplicate_of=duplicate_of, released=released, at=_ts(now))
    out = _outcome(done, now, decision="ABORT", status="RJCT", final=True, reason=reason, duplicate_of=duplicate_of)
    return Effects(journal=[booked], outcomes=[out])


def _outcome(r: SettlementReceipt, now: float, **kw: object) -> SettlementOutcome:
    return SettlementOutcome.model_validate({"settlement_id": r.settlement_id, "uetr": r.uetr, "sender": r.sender,
                                   "msg_id": r.msg_id, "at": _ts(now), **kw})
