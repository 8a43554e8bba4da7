"""One payment's life, as pure transitions: ``(state, event, ports, now) -> CorridorStep(state, sends)``.

The orchestrator keeps one ``PaymentState`` per UETR. Every handler is idempotent against
redelivery: an event that does not fit the current phase changes nothing and sends nothing
(or, for a genuinely new message reusing a UETR, answers it as a duplicate). Message ids of
everything sent are derived from the UETR and the purpose, so a replayed step emits the same ids.

Flow: payment received -> screened (clear / hold / reject) -> priced with a locked quote
(or waits for a fresh one) -> settlement requested -> decision. On COMMIT the payment is
translated and delivered, the sender gets ACSC and the moved accounts' owners a camt.054; on
ABORT the sender gets RJCT with the reason. Afterwards a pacs.002 RJCT or a pacs.004 from the
receiving side runs a reverse PvP at the then-current rate; a camt.056 cancels a payment that
has not settled, or is forwarded to the receiving side once it has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from router.corridor import legs as legs_
from router.corridor import outbound
from router.corridor.effects import Send
from router.corridor.ports import Ports, Verdict
from router.corridor.screening_view import screening_request
from router.corridor.state import FINAL, Direction, PaymentState, Phase, Reversal, model_json, updated
from router.fx.pricing import Wait, price_payment
from router.iso20022.model import CancellationRequest, Payment, Resolution, Return, Side, StatusReport
from router.iso20022.translate import derived_id
from router.outcome import CANCELLED, CONDITION_EXPIRED, DUPLICATE, INVALID_BIC, NARRATIVE, REGULATORY, Ok, Reject
from router.settlement.model import Execute, Release, SettlementOutcome, SettlementRequest
from router.tracker.journey import Hop, Stage, record


@dataclass(frozen=True, slots=True)
class CorridorStep:
    state: PaymentState | None
    sends: tuple[Send, ...] = ()
    # Set when the event could not be applied at all (goes to the DLQ with this reason).
    reject: Reject | None = None
    # Postings to tell the accounts' owners about: the stage gathers them into one camt.054 per
    # account every ``corridor.notification_interval_s`` (outbound.notifications).
    bookings: tuple[outbound.Booking, ...] = ()


def _hop_id(uetr: str, stage: Stage, extra: str = "") -> str:
    return derived_id("H", uetr, stage.value, extra, length=17)


def hop(state: PaymentState, stage: Stage, now: datetime, *, reason: str | None = None, by: str = "router",
        extra: str = "", **detail: object) -> PaymentState:
    h = Hop(uetr=state.uetr, stage=stage, at=now, id=_hop_id(state.uetr, stage, extra), by=by, reason=reason,
            detail={k: v for k, v in detail.items() if v is not None})
    return updated(state, journey=record(state.journey, h))


_JSON = msgspec.json.Encoder()


def status_send(state: PaymentState) -> Send:
    """The journey snapshot for the compacted ``payments.status`` topic."""
    body = {
        "uetr": state.uetr, "phase": state.phase.value, "direction": state.direction,
        "outcome": state.journey.outcome.value, "reason": state.journey.reason,
        "amount": str(state.payment.settlement_amount), "currency": state.payment.currency,
        "debtor": state.payment.debtor.name if state.payment.debtor else None,
        "debtor_original": state.payment.debtor.name_original if state.payment.debtor else None,
        "creditor": state.payment.creditor.name if state.payment.creditor else None,
        "creditor_original": state.payment.creditor.name_original if state.payment.creditor else None,
        # Already-JSON parts go in as they are: pydantic renders them in one call each.
        "quote": msgspec.Raw(model_json(state.lock)) if state.lock else None,
        "condition": ({**state.payment.condition.model_dump(mode="json"), "state": state.condition_state}
                      if state.payment.condition else None),
        "hops": state.journey.hops,
    }
    return Send("payments.status", state.uetr, _JSON.encode(body))


def _with_status(state: PaymentState, sends: list[Send]) -> CorridorStep:
    return CorridorStep(state, (*sends, status_send(state)))


# --- a new payment ------------------------------------------------------------------------

def _unknown_agents(p: Payment, ports: Ports) -> list[str]:
    out = []
    for agent in (p.debtor_agent, p.creditor_agent):
        if agent is None:
            continue
        if agent.bic and ports.directory.by_bic(agent.bic) is None:
            out.append(agent.bic)
        elif not agent.bic and agent.cips_id and ports.directory.by_cips(agent.cips_id) is None:
            out.append(agent.cips_id)
    return out


def _terms(p: Payment) -> tuple[object, ...]:
    return (p.settlement_amount, p.currency, p.instr_id, p.end_to_end_id, p.debtor_agent, p.creditor_agent)


def on_payment(state: PaymentState | None, payment: Payment, source: Side, ports: Ports, now: datetime) -> CorridorStep:
    if state is not None:
        same = (state.payment.msg_id == payment.msg_id and state.source == source)
        if same and _terms(state.payment) == _terms(payment):
            return CorridorStep(state)  # redelivery of the same message: already handled
        # A different message reusing a UETR, or the same MsgId with other terms: answer it, keep
        # it in the DLQ, never book it.
        text = (f"MsgId {payment.msg_id} already used for other terms" if same
                else f"UETR {payment.uetr} already used by {state.payment.msg_id}")
        dup = outbound.status(ports, payment, source, "RJCT", DUPLICATE, now, text=text,
                             purpose=f"dup:{payment.msg_id}")
        return CorridorStep(state, (dup,), reject=Reject(DUPLICATE, text, "corridor"))
    unknown = _unknown_agents(payment, ports)
    if unknown:
        # Money must never move towards an institution the corridor has no account for (found by
        # the hostile-traffic run: such payments were booked to an account opened on the fly).
        text = f"unknown agent(s) {', '.join(unknown)}: not a CIPS participant or correspondent of the corridor"
        answer = outbound.status(ports, payment, source, "RJCT", INVALID_BIC, now, text=text,
                                 purpose=f"rc01:{payment.msg_id}")
        return CorridorStep(None, (answer,), reject=Reject(INVALID_BIC, text, "corridor"))
    direction: Direction = "outbound" if source == "cips" else "inbound"
    fresh = PaymentState(uetr=payment.uetr, source=source, direction=direction, phase=Phase.SCREENING,
                         payment=payment, journey=record(None, Hop(
                             uetr=payment.uetr, stage=Stage.RECEIVED, at=now,
                             id=_hop_id(payment.uetr, Stage.RECEIVED), by=source,
                             detail={"msg_id": payment.msg_id, "amount": str(payment.settlement_amount),
                                     "currency": payment.currency,
                                     **({"not_carried": list(payment.not_carried)} if payment.not_carried else {})})))
    # Screening runs in its own stage, keyed by debtor, so that velocity rules see all of one
    # debtor's payments whichever UETR partition they arrive on.
    request = screening_request(payment, ports.directory)
    ask = Send("screening.requests", request.velocity_key(), request.model_dump_json().encode(),
               (("uetr", payment.uetr.encode()),))
    return _with_status(fresh, [ask])


def on_screening_result(state: PaymentState | None, verdict: Verdict, ports: Ports, now: datetime) -> CorridorStep:
    """The screening stage's decision: reject, hold for an analyst, or go on to pricing."""
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "screening result for an unknown payment", "corridor"))
    if state.phase is not Phase.SCREENING:
        return CorridorStep(state)  # redelivery: already applied
    payment, source = state.payment, state.source
    if verdict.outcome == "reject":
        code = verdict.reason_code or REGULATORY
        s = hop(state, Stage.REJECTED, now, reason=code, text=verdict.text)
        s = updated(s, phase=Phase.REJECTED, reason=code)
        rj = outbound.status(ports, payment, source, "RJCT", code, now, text=verdict.text)
        return _with_status(s, [rj])
    if verdict.outcome == "hold":
        s = hop(state, Stage.HELD, now, reason=verdict.reason_code or REGULATORY, text=verdict.text)
        s = updated(s, phase=Phase.HELD)
        return _with_status(s, [outbound.status(ports, payment, source, "PDNG", None, now,
                                               text="held for compliance review", cause="hold")])
    s = hop(state, Stage.SCREENED, now, outcome="clear")
    return _price(s, ports, now, [])


# --- pricing and settlement request --------------------------------------------------------

def delivered_currency(state: PaymentState, ports: Ports) -> str:
    """The currency the receiving side is paid in: CNY into China, the correspondent's own outward."""
    if state.direction == "inbound":
        return "CNY"
    agent = state.payment.creditor_agent
    return (ports.currency_of(agent.bic) if agent.bic else None) or state.payment.currency


def _price(state: PaymentState, ports: Ports, now: datetime, sends: list[Send]) -> CorridorStep:
    p = state.payment
    target = delivered_currency(state, ports)
    lock = state.lock
    if target != p.currency and lock is None:
        result = price_payment(p.uetr, p.settlement_amount, p.currency, target, ports.quotes(), None, now,
                               ports.settings.fx, waiting_since=state.waiting_since)
        if isinstance(result, Wait):
            s = updated(state, phase=Phase.WAITING_FX, waiting_since=result.waiting_since,
                        retry_at=result.retry_at)
            if state.phase is not Phase.WAITING_FX:
                s = hop(s, Stage.QUEUED, now, reason="FX", text=result.reason)
            return _with_status(s, sends)
        if isinstance(result, Reject):
            return _with_status(*_reject(state, ports, result.code, result.text, now, sends))
        lock = result.value.lock
        state = hop(updated(state, lock=lock), Stage.PRICED, now, quote_id=lock.quote_id,
                    rate=str(lock.rate), provider=lock.provider, amount_out=str(lock.amount_out),
                    currency_out=lock.currency_out)
    cond = p.condition
    if cond is not None:
        # The quote locked above holds for the condition's life: the reserved legs carry its amounts.
        if cond.expiry <= now:
            return _with_status(*_reject(state, ports, CONDITION_EXPIRED, "condition expired before settlement",
                                         now, sends))
        if (cond.expiry - now).total_seconds() > ports.settings.corridor.max_condition_s:
            return _with_status(*_reject(state, ports, NARRATIVE, "condition expiry beyond the corridor's "
                                         f"{ports.settings.corridor.max_condition_s:g} s limit", now, sends))
    try:
        legs = legs_.forward_legs(
            p, ports.directory, fx_provider=lock.provider if lock else None,
            amount_out=lock.amount_out if lock else p.settlement_amount, currency_out=target)
        request = SettlementRequest(settlement_id=p.uetr, uetr=p.uetr,
                                    sender=legs_.payer(p, ports.directory) or "?", msg_id=p.msg_id, legs=legs,
                                    condition_id=cond.id if cond else None, hold_until=cond.expiry if cond else None)
    except ValueError as exc:
        return _with_status(*_reject(state, ports, NARRATIVE, f"cannot settle: {exc}", now, sends))
    s = updated(state, phase=Phase.SETTLING, settlement_id=p.uetr, retry_at=None,
                condition_state="reserving" if cond else None)
    return _with_status(s, [*sends, Send("settlement.requests", p.uetr, request.model_dump_json().encode())])


def _reject(state: PaymentState, ports: Ports, code: str, text: str, now: datetime,
            sends: list[Send]) -> tuple[PaymentState, list[Send]]:
    s = hop(state, Stage.REJECTED, now, reason=code, text=text)
    s = updated(s, phase=Phase.REJECTED, reason=code, retry_at=None)
    return s, [*sends, outbound.status(ports, state.payment, state.source, "RJCT", code, now, text=text)]


def on_retry(state: PaymentState | None, ports: Ports, now: datetime) -> CorridorStep:
    """A timer tick for a payment waiting for a fresh FX quote."""
    if state is None or state.phase is not Phase.WAITING_FX:
        return CorridorStep(state)
    return _price(state, ports, now, [])


# --- compliance decision ---------------------------------------------------------------------

def on_screening_decision(state: PaymentState | None, decision: dict[str, object], ports: Ports,
                          now: datetime) -> CorridorStep:
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "decision for an unknown payment", "corridor"))
    if state.phase is not Phase.HELD:
        return CorridorStep(state)  # already decided (redelivery or a second analyst)
    who = str(decision.get("analyst") or "analyst")
    reason = str(decision.get("reason") or "")
    if decision.get("action") == "release":
        s = hop(state, Stage.RELEASED, now, by=who, text=reason)
        return _price(s, ports, now, [])
    code = str(decision.get("reason_code") or REGULATORY)
    return _with_status(*_reject(state, ports, code, reason or "rejected by compliance", now, []))


# --- settlement outcome ------------------------------------------------------------------------

def on_settlement(state: PaymentState | None, outcome: SettlementOutcome, ports: Ports, now: datetime) -> CorridorStep:
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "settlement outcome for an unknown payment", "corridor"))
    if state.reversal is not None and outcome.settlement_id == state.reversal.settlement_id:
        return _on_reverse_settlement(state, outcome, ports, now)
    if outcome.settlement_id != state.settlement_id or state.phase not in (Phase.SETTLING, Phase.CONDITIONAL):
        return CorridorStep(state)
    if outcome.decision == "RESERVED":
        return _reserved(state, ports, now)
    if outcome.decision == "PENDING":
        s = hop(state, Stage.QUEUED, now, reason=outcome.reason or "AM04", text="waiting for liquidity")
        return _with_status(s, [outbound.status(ports, state.payment, state.source, "PDNG", outcome.reason, now,
                                               text="queued for liquidity", purpose="queued",
                                                cause="liquidity")])
    if outcome.decision in ("ABORT", "DUPLICATE"):
        code = outcome.reason or (DUPLICATE if outcome.decision == "DUPLICATE" else NARRATIVE)
        text = "duplicate instruction" if outcome.decision == "DUPLICATE" else "settlement aborted"
        if state.condition_state is not None:
            ended = "cancelled" if state.cancel is not None else "expired"
            state = updated(state, condition_state=ended)
            if code == CONDITION_EXPIRED:
                text = "condition not met before its expiry; reserved funds released"
        if state.cancel is not None:
            return _cancelled(state, ports, now, text="cancelled before settlement")
        return _with_status(*_reject(state, ports, code, text, now, []))
    # COMMIT: the moment of finality.
    if state.condition_state is not None:
        state = updated(state, condition_state="met")
    s = hop(state, Stage.SETTLED, now, legs=list(outcome.legs_booked))
    sends = [outbound.status(ports, state.payment, state.source, "ACSC", None, now)]
    delivery = outbound.deliver(ports, outbound.outbound_payment(state, ports, now), state.target)
    sends.append(delivery.send)
    s = hop(s, Stage.DELIVERED, now, msg_id=delivery.msg_id, to=delivery.receiver)
    s = updated(s, phase=Phase.DELIVERED, delivered_msg_id=delivery.msg_id)
    if state.cancel is not None:  # asked to cancel while settling: too late, ask the receiver
        sends.append(outbound.forward_cancellation(ports, s, state.cancel, now))
    return replace(_with_status(s, sends), bookings=outbound.bookings(state.payment, outcome, now))


def _reserved(state: PaymentState, ports: Ports, now: datetime) -> CorridorStep:
    """Both legs are held on the ledger: the payment waits for its condition (or is released at
    once if the payer cancelled while the reservation was being made)."""
    if state.phase is Phase.CONDITIONAL:
        return CorridorStep(state)  # redelivery
    cond = state.payment.condition
    s = hop(state, Stage.RESERVED, now, reason="condition", condition_id=cond.id if cond else None,
            releasing_party=cond.releasing_party if cond else None,
            expiry=cond.expiry.isoformat() if cond else None)
    early = state.condition_state == "releasing"  # the event came while the hold was being made
    s = updated(s, phase=Phase.CONDITIONAL, condition_state="releasing" if early else "held")
    sends = [outbound.status(ports, state.payment, state.source, "PDNG", None, now, text="awaiting condition",
                             purpose="condition", cause="condition")]
    if early:
        sends.append(execute_send(s))
    elif s.cancel is not None:
        sends.append(release_send(s))
    return _with_status(s, sends)


def execute_send(state: PaymentState) -> Send:
    """Ask the ledger to book a reserved settlement: its condition was met (the latest event)."""
    cond = state.payment.condition
    assert cond is not None and state.condition_events
    cmd = Execute(settlement_id=state.settlement_id or state.uetr, uetr=state.uetr, condition_id=cond.id,
                  event_id=state.condition_events[-1])
    return Send("settlement.requests", cmd.settlement_id, cmd.model_dump_json().encode())


def release_send(state: PaymentState) -> Send:
    """Ask the ledger to give a reserved settlement up (a payer's cancellation)."""
    code = state.cancel.reason_code if state.cancel and state.cancel.reason_code else CANCELLED
    if len(code) != 4 or not code.isalnum():
        code = CANCELLED
    cmd = Release(settlement_id=state.settlement_id or state.uetr, uetr=state.uetr, reason=code.upper())
    return Send("settlement.requests", cmd.settlement_id, cmd.model_dump_json().encode())


# --- after delivery: the receiving side answers ----------------------------------------------------

def on_receiver_status(state: PaymentState | None, report: StatusReport, side: Side, ports: Ports,
                       now: datetime) -> CorridorStep:
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "status report for an unknown payment", "corridor"))
    if side != state.target:
        # Only the receiving side reports on a delivered payment: this is not a redelivery, keep it.
        return CorridorStep(state, reject=Reject(NARRATIVE, f"status report about {state.uetr} from its sending "
                                                            f"side ({side})", "corridor"))
    if state.phase is not Phase.DELIVERED:
        return CorridorStep(state)
    if report.status in ("ACSC", "ACCP", "ACSP", "ACTC"):
        if state.journey.last(Stage.ACKNOWLEDGED) is not None:
            return CorridorStep(state)
        return _with_status(hop(state, Stage.ACKNOWLEDGED, now, by=side, status=report.status), [])
    if report.status == "RJCT":
        s = hop(state, Stage.REFUSED, now, by=side, reason=report.reason_code, text=report.reason_text)
        amount_back = state.lock.amount_out if state.lock else state.payment.settlement_amount
        return _reverse(s, ports, now, kind="refusal", reason=report.reason_code or NARRATIVE,
                        amount_back=amount_back, currency_back=delivered_currency(state, ports), return_id=None)
    return CorridorStep(state)


def on_return(state: PaymentState | None, ret: Return, side: Side, ports: Ports, now: datetime) -> CorridorStep:
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "return for an unknown payment", "corridor"))
    if side != state.target:
        return CorridorStep(state, reject=Reject(NARRATIVE, f"return of {state.uetr} from its sending side ({side})",
                                                 "corridor"))
    if state.phase is not Phase.DELIVERED:
        return CorridorStep(state)
    # The RETURNED hop is written when the reverse settlement commits: only then has money moved.
    return _reverse(state, ports, now, kind="return", reason=ret.reason_code, amount_back=ret.returned_amount,
                    currency_back=ret.currency, return_id=ret.rtr_id)


def _reverse(state: PaymentState, ports: Ports, now: datetime, *, kind: Literal["return", "refusal"], reason: str,
             amount_back: Decimal, currency_back: str, return_id: str | None) -> CorridorStep:
    p = state.payment
    settlement_id = f"{p.uetr}.R"
    lock = None
    amount_to_sender = amount_back
    if currency_back != p.currency:
        result = price_payment(settlement_id, amount_back, currency_back, p.currency, ports.quotes(), None, now,
                               ports.settings.fx)
        if not isinstance(result, Ok):
            # No rate to bring the money back now: keep the refusal on record, retry on the next event.
            text = result.text if isinstance(result, Reject) else result.reason
            return _with_status(hop(state, Stage.QUEUED, now, reason="FX", text=f"reverse waits: {text}",
                                    extra="reverse"), [])
        lock = result.value.lock
        amount_to_sender = lock.amount_out
    try:
        legs = legs_.reverse_legs(p, ports.directory, fx_provider=lock.provider if lock else None,
                                  amount_back=amount_back, currency_back=currency_back,
                                  amount_to_sender=amount_to_sender)
        request = SettlementRequest(settlement_id=settlement_id, uetr=p.uetr,
                                    sender=legs_.payee(p, ports.directory) or "?",
                                    msg_id=(return_id or f"{p.msg_id}.R")[:64], legs=legs)
    except ValueError as exc:
        return _with_status(hop(state, Stage.QUEUED, now, reason=NARRATIVE, text=f"cannot reverse: {exc}",
                                extra="reverse"), [])
    rev = Reversal(kind=kind, settlement_id=settlement_id, reason=reason,
                   amount_back=str(amount_back), currency_back=currency_back,
                   amount_to_sender=str(amount_to_sender), currency_to_sender=p.currency, return_id=return_id,
                   lock=lock)
    s = updated(state, phase=Phase.REVERSING, reversal=rev)
    return _with_status(s, [Send("settlement.requests", settlement_id, request.model_dump_json().encode())])


def _on_reverse_settlement(state: PaymentState, outcome: SettlementOutcome, ports: Ports,
                           now: datetime) -> CorridorStep:
    rev = state.reversal
    assert rev is not None
    if state.phase is not Phase.REVERSING or outcome.decision == "PENDING":
        return CorridorStep(state)
    if outcome.decision != "COMMIT":
        s = hop(state, Stage.QUEUED, now, reason=outcome.reason, text="reverse settlement aborted", extra="rev-abort")
        return _with_status(updated(s, phase=Phase.DELIVERED, reversal=None), [])
    sends: list[Send] = []
    if rev.kind == "return" and state.cancel is not None:
        # The receiving side agreed to a forwarded cancellation and returned the funds.
        s = hop(state, Stage.CANCELLED, now, reason=state.cancel.reason_code, amount=rev.amount_to_sender,
                currency=rev.currency_to_sender, text="cancelled after settlement; funds returned")
        sends.append(outbound.return_to_sender(ports, state, now))
        s = updated(s, phase=Phase.CANCELLED, reason=state.cancel.reason_code)
    elif rev.kind == "return":
        s = hop(state, Stage.RETURNED, now, reason=rev.reason, amount=rev.amount_to_sender,
                currency=rev.currency_to_sender)
        sends.append(outbound.return_to_sender(ports, state, now))
        s = updated(s, phase=Phase.RETURNED, reason=rev.reason)
    else:
        s = hop(state, Stage.REJECTED, now, reason=rev.reason, text="refused by the receiving side; funds reversed")
        sends.append(outbound.status(ports, state.payment, state.source, "RJCT", rev.reason, now,
                                    text="refused by the receiving bank; funds returned", purpose="refused"))
        s = updated(s, phase=Phase.REJECTED, reason=rev.reason)
    return replace(_with_status(s, sends), bookings=outbound.bookings(state.payment, outcome, now))


# --- cancellations -------------------------------------------------------------------------------

def on_cancellation(state: PaymentState | None, req: CancellationRequest, side: Side, ports: Ports,
                    now: datetime) -> CorridorStep:
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "cancellation for an unknown payment", "corridor"))
    if side != state.source or state.phase in FINAL or state.cancel is not None:
        return CorridorStep(state)
    s = hop(updated(state, cancel=req), Stage.CANCEL_REQUESTED, now, by=side, reason=req.reason_code)
    if state.phase in (Phase.RECEIVED, Phase.SCREENING, Phase.HELD, Phase.WAITING_FX):
        return _cancelled(s, ports, now, text="cancelled before settlement")
    if state.phase is Phase.SETTLING:
        return _with_status(s, [])  # decided when the settlement outcome arrives
    if state.phase is Phase.CONDITIONAL:
        return _with_status(s, [release_send(s)])  # the ledger decides: release, unless already executed
    # Settled: only the receiving side can give the money back.
    return _with_status(s, [outbound.forward_cancellation(ports, s, req, now)])


def _cancelled(state: PaymentState, ports: Ports, now: datetime, *, text: str) -> CorridorStep:
    assert state.cancel is not None
    s = hop(state, Stage.CANCELLED, now, reason=state.cancel.reason_code, text=text)
    s = updated(s, phase=Phase.CANCELLED, reason=state.cancel.reason_code, retry_at=None)
    return _with_status(s, [outbound.resolution(ports, s, "CNCL", now)])


def on_resolution(state: PaymentState | None, res: Resolution, side: Side, ports: Ports, now: datetime) -> CorridorStep:
    """The receiving side's answer to a forwarded cancellation, relayed to the requester."""
    if state is None:
        return CorridorStep(None, reject=Reject(NARRATIVE, "resolution for an unknown payment", "corridor"))
    if side != state.target or state.cancel is None:
        return CorridorStep(state)
    if state.journey.last(Stage.CANCEL_REQUESTED) is None:
        return CorridorStep(state)
    extra = f"resolution:{res.status}"
    if any(h.id == _hop_id(state.uetr, Stage.ACKNOWLEDGED, extra) for h in state.journey.hops):
        return CorridorStep(state)
    s = hop(state, Stage.ACKNOWLEDGED, now, by=side, extra=extra, resolution=res.status)
    return _with_status(s, [outbound.resolution(ports, s, res.status, now)])
