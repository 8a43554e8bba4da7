"""The PvP coordinator: one settlement's life from request to a single COMMIT or ABORT.

Pure, no Kafka. ``handle(state, event, now, policy)`` returns the next state, the account
commands to send, the decision record (at most once per settlement) and outcome records.

    NEW --request--> RESERVING --all legs RESERVED + MsgId CLAIMED--> COMMITTING --postings--> COMMITTED
                        |  ^ INSUFFICIENT (queue wait > 0)                (decision COMMIT: final)
                        v  | RESERVED
                      QUEUED (PDNG)
    RESERVING / QUEUED --INSUFFICIENT (no queue), REJECTED, MsgId duplicate, queue wait over,
                         deadline--> ABORTED (decision ABORT: release every leg)

The decision record is the moment of finality: once written, late answers (a reservation
granted from the liquidity queue after an abort, say) change nothing but are cleaned up by the
RELEASE already sent, which the account processes after the RESERVE that preceded it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from router.outcome import DUPLICATE, INSUFFICIENT_FUNDS, INVALID_CURRENCY, TIMEOUT
from router.settlement.model import (
    AccountEvent,
    Claim,
    Commit,
    Credit,
    Decision,
    Leg,
    Posting,
    Release,
    Reserve,
    SettlementOutcome,
    SettlementRequest,
)
from router.settlement.settings import AccountOpening

Phase = Literal["RESERVING", "QUEUED", "COMMITTING", "COMMITTED", "ABORTED"]
LegProgress = Literal["PENDING", "RESERVED", "INSUFFICIENT"]
OPEN_PHASES: frozenset[str] = frozenset({"RESERVING", "QUEUED"})
Command = Reserve | Commit | Release | Credit | Claim


@dataclass(frozen=True, slots=True)
class Policy:
    pvp_deadline_s: float
    liquidity_max_wait_s: float
    opening_balances: Mapping[str, AccountOpening]


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: look for expired deadlines and liquidity waits."""


class BookedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    leg: str
    role: Literal["debit", "credit"]
    posting: Posting


class SettlementState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    request: SettlementRequest
    phase: Phase
    received_at: float
    deadline: float
    queued_until: float | None = None
    legs: dict[str, LegProgress]
    claim: Literal["PENDING", "OK", "DUPLICATE"] = "PENDING"
    duplicate_of: str | None = None
    decision: Literal["COMMIT", "ABORT"] | None = None
    reason: str | None = None
    decided_at: float | None = None
    booked: tuple[BookedLine, ...] = ()
    duplicates_answered: int = 0
    # The liquidity-queue wait in force when the request arrived (policy changes never
    # rewrite the terms of a settlement already in flight).
    queue_wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CoordinatorStep:
    state: SettlementState | None
    commands: tuple[Command, ...] = ()
    decisions: tuple[Decision, ...] = ()
    outcomes: tuple[SettlementOutcome, ...] = ()


def due(state: SettlementState) -> float | None:
    """When the coordinator must look at this settlement again without any event."""
    if state.phase == "RESERVING":
        return state.deadline
    if state.phase == "QUEUED":
        return min(state.deadline, state.queued_until or state.deadline)
    return None


def handle(state: SettlementState | None, event: SettlementRequest | AccountEvent | Tick, now: float,
           policy: Policy) -> CoordinatorStep:
    if isinstance(event, SettlementRequest):
        return _request(state, event, now, policy)
    if state is None:
        return CoordinatorStep(None)  # answers about fundings or about settlements this partition never saw
    if isinstance(event, Tick):
        return _tick(state, now)
    return _answer(state, event, now)


def _ts(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def _outcome(state: SettlementState, now: float, **kw: object) -> SettlementOutcome:
    r = state.request
    return SettlementOutcome.model_validate({"settlement_id": r.settlement_id, "uetr": r.uetr, "sender": r.sender,
                                   "msg_id": r.msg_id, "at": _ts(now), **kw})


def duplicate_answer(req: SettlementRequest, of: str, now: float) -> SettlementOutcome:
    """What a request for a settlement id already seen gets: never a second settlement."""
    return SettlementOutcome(settlement_id=req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                   decision="DUPLICATE", status="RJCT", final=False, reason=DUPLICATE, duplicate_of=of,
                   at=_ts(now))


def _currency_problem(leg: Leg, opening: Mapping[str, AccountOpening]) -> str | None:
    for acct in (leg.debit_account, leg.credit_account):
        o = opening.get(acct)
        ccy = o.currency if o is not None else acct.rsplit("/", 1)[-1]
        if ccy != leg.currency:
            return f"{acct} holds {ccy}, leg {leg.leg} is in {leg.currency}"
    return None


def _request(state: SettlementState | None, req: SettlementRequest, now: float, policy: Policy) -> CoordinatorStep:
    if state is not None:
        answered = state.model_copy(update={"duplicates_answered": state.duplicates_answered + 1})
        return CoordinatorStep(answered, outcomes=(duplicate_answer(req, state.request.settlement_id, now),))
    deadline = now + policy.pvp_deadline_s
    if req.deadline is not None:
        deadline = min(deadline, req.deadline.timestamp())
    new = SettlementState(request=req, phase="RESERVING", received_at=now, deadline=deadline,
                          legs={leg.leg: "PENDING" for leg in req.legs},
                          queue_wait_s=policy.liquidity_max_wait_s)
    if any(_currency_problem(leg, policy.opening_balances) for leg in req.legs):
        return _abort(new, INVALID_CURRENCY, now, release=False)
    if now >= deadline:
        return _abort(new, TIMEOUT, now, release=False)
    cmds: list[Command] = [
        Reserve(account=leg.debit_account, settlement_id=req.settlement_id, leg=leg.leg, currency=leg.currency,
                amount=leg.amount)
        for leg in req.legs
    ]
    cmds.append(Claim(sender=req.sender, msg_id=req.msg_id, settlement_id=req.settlement_id))
    return CoordinatorStep(new, commands=tuple(cmds))


def _abort(state: SettlementState, reason: str, now: float, *, release: bool = True,
           duplicate_of: str | None = None) -> CoordinatorStep:
    sid = state.request.settlement_id
    new = state.model_copy(update={"phase": "ABORTED", "decision": "ABORT", "reason": reason, "decided_at": now,
                                   "queued_until": None, "duplicate_of": duplicate_of or state.duplicate_of})
    cmds = tuple(Release(account=leg.debit_account, settlement_id=sid, leg=leg.leg)
                 for leg in state.request.legs) if release else ()
    dec = Decision(settlement_id=sid, uetr=state.request.uetr, decision="ABORT", reason=reason, decided_at=_ts(now))
    out = _outcome(new, now, decision="ABORT", status="RJCT", final=True, reason=reason,
                   duplicate_of=new.duplicate_of)
    return CoordinatorStep(new, commands=cmds, decisions=(dec,), outcomes=(out,))


def _maybe_commit(state: SettlementState, now: float) -> CoordinatorStep:
    if state.claim != "OK" or any(p != "RESERVED" for p in state.legs.values()):
        return CoordinatorStep(state)
    sid = state.request.settlement_id
    new = state.model_copy(update={"phase": "COMMITTING", "decision": "COMMIT", "decided_at": now,
                                   "queued_until": None})
    cmds: list[Command] = []
    for leg in state.request.legs:
        cmds.append(Commit(account=leg.debit_account, settlement_id=sid, leg=leg.leg))
        cmds.append(Credit(account=leg.credit_account, settlement_id=sid, leg=leg.leg, currency=leg.currency,
                           amount=leg.amount))
    dec = Decision(settlement_id=sid, uetr=state.request.uetr, decision="COMMIT", decided_at=_ts(now))
    return CoordinatorStep(new, commands=tuple(cmds), decisions=(dec,))


def _tick(state: SettlementState, now: float) -> CoordinatorStep:
    if state.phase not in OPEN_PHASES:
        return CoordinatorStep(state)
    if state.phase == "QUEUED" and state.queued_until is not None and now >= state.queued_until:
        return _abort(state, INSUFFICIENT_FUNDS, now)
    if now >= state.deadline:
        short = any(p == "INSUFFICIENT" for p in state.legs.values())
        return _abort(state, INSUFFICIENT_FUNDS if short else TIMEOUT, now)
    return CoordinatorStep(state)


def _answer(state: SettlementState, ev: AccountEvent, now: float) -> CoordinatorStep:
    if state.phase in OPEN_PHASES:
        return _undecided_answer(state, ev, now)
    if state.phase == "COMMITTING" and ev.type in ("COMMITTED", "CREDITED") and ev.posting is not None:
        return _booked(state, ev, now)
    return CoordinatorStep(state)  # late answers after the decision: the RELEASEs already sent clean up


def _undecided_answer(state: SettlementState, ev: AccountEvent, now: float) -> CoordinatorStep:
    if ev.type == "CLAIMED":
        return _maybe_commit(state.model_copy(update={"claim": "OK"}), now)
    if ev.type == "CLAIM_DUPLICATE":
        marked = state.model_copy(update={"claim": "DUPLICATE"})
        return _abort(marked, DUPLICATE, now, duplicate_of=ev.duplicate_of)
    leg = ev.leg
    if leg is None or leg not in state.legs or _debit_account(state, leg) != ev.account:
        return CoordinatorStep(state)
    if ev.type == "RESERVED":
        legs = {**state.legs, leg: "RESERVED"}
        return _maybe_commit(state.model_copy(update={"legs": legs}), now)
    if ev.type == "INSUFFICIENT":
        legs = {**state.legs, leg: "INSUFFICIENT"}
        marked = state.model_copy(update={"legs": legs})
        return _queue_or_abort(marked, now)
    if ev.type == "REJECTED":
        return _abort(state, ev.reason or INVALID_CURRENCY, now)
    return CoordinatorStep(state)


def _queue_or_abort(state: SettlementState, now: float) -> CoordinatorStep:
    # The wait is queue_wait_s after the first shortfall, never past the PvP deadline. A
    # settlement already queued keeps its original wait when a second leg falls short.
    if state.phase == "QUEUED":
        return CoordinatorStep(state)
    wait = state.queue_wait_s
    if wait <= 0:
        return _abort(state, INSUFFICIENT_FUNDS, now)
    until = min(now + wait, state.deadline)
    new = state.model_copy(update={"phase": "QUEUED", "queued_until": until})
    pending = _outcome(new, now, decision="PENDING", status="PDNG", final=False, reason=INSUFFICIENT_FUNDS)
    return CoordinatorStep(new, outcomes=(pending,))


def _debit_account(state: SettlementState, leg: str) -> str | None:
    for lg in state.request.legs:
        if lg.leg == leg:
            return lg.debit_account
    return None


def _booked(state: SettlementState, ev: AccountEvent, now: float) -> CoordinatorStep:
    assert ev.posting is not None and ev.leg is not None
    role: Literal["debit", "credit"] = "debit" if ev.type == "COMMITTED" else "credit"
    if any(b.leg == ev.leg and b.role == role for b in state.booked):
        return CoordinatorStep(state)
    booked = (*state.booked, BookedLine(leg=ev.leg, role=role, posting=ev.posting))
    new = state.model_copy(update={"booked": booked})
    if len(booked) < 2 * len(state.request.legs):
        return CoordinatorStep(new)
    done = new.model_copy(update={"phase": "COMMITTED"})
    legs = tuple(lg.leg for lg in state.request.legs)
    out = _outcome(done, now, decision="COMMIT", status="ACSC", final=True, legs_booked=legs,
                   postings=tuple(b.posting for b in booked))
    return CoordinatorStep(done, outcomes=(out,))
