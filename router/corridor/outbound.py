"""Messages the corridor sends: status reports, notifications, deliveries, returns, cancellations.

Each function builds a canonical message addressed to one side and renders it with that side's
profile. Message ids are derived from the UETR and a purpose, so a replayed step sends the same
ids (receivers can drop duplicates) and no id is ever random.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from router import headers
from router.corridor.effects import Send
from router.corridor.ports import Ports
from router.corridor.state import PaymentState
from router.iso20022.build import build_message
from router.iso20022.model import (
    Account,
    Agent,
    CancellationRequest,
    CanonicalMessage,
    Header,
    Notification,
    OriginalRef,
    Payment,
    Profile,
    Resolution,
    Return,
    Side,
    StatusReport,
)
from router.iso20022.translate import CBPR_BIZ_SVC, CIPS_BIZ_SVC, derived_id
from router.settlement.model import SettlementOutcome

OUT_TOPIC: dict[Side, str] = {"cips": "cips.out", "corr": "corr.out"}
PROFILE: dict[Side, Profile] = {"cips": "cips", "corr": "cbpr"}
BIZ_SVC: dict[Side, str] = {"cips": CIPS_BIZ_SVC, "corr": CBPR_BIZ_SVC}


def msg_def_id(message: CanonicalMessage) -> str:
    return message.header.msg_def_id if message.header is not None else message.kind


def reply_id(uetr: str, purpose: str) -> str:
    """A 35-character message id, the same every time for the same payment and purpose."""
    return derived_id("RTR", uetr, purpose, length=35)


def router_agent(ports: Ports, side: Side) -> Agent:
    bic = ports.settings.router_bic
    if side == "cips":
        me = ports.directory.by_bic(bic)
        return Agent(bic=bic, cips_id=me.cips_id if me else None)
    return Agent(bic=bic)


def for_side(ports: Ports, agent: Agent | None, side: Side) -> Agent:
    """The agent as the given side identifies it: CIPS id beside the BIC on the CIPS side only."""
    if agent is None:
        return Agent(bic=ports.settings.router_bic)
    known = ports.directory.by_bic(agent.bic) if agent.bic else None
    if side == "cips":
        return Agent(bic=agent.bic, cips_id=agent.cips_id or (known.cips_id if known else None))
    return Agent(bic=agent.bic, member_id=agent.member_id, clearing_system=agent.clearing_system)


def sender_of(p: Payment) -> Agent:
    if p.header is not None:
        return p.header.sender
    return p.instructing_agent or p.debtor_agent


def _header(ports: Ports, side: Side, to: Agent, msg_def: str, msg_id: str, now: datetime) -> Header:
    return Header(sender=router_agent(ports, side), receiver=for_side(ports, to, side), biz_msg_id=msg_id,
                  msg_def_id=msg_def, biz_svc=BIZ_SVC[side], created=now)


def _send(ports: Ports, side: Side, key: str, message: CanonicalMessage, to: Agent,
          extra: tuple[tuple[str, bytes], ...] = ()) -> Send:
    """Translate to the side's profile (ids, agents, header), render, address."""
    out = ports.translate(message, side)
    receiver = out.header.receiver if out.header is not None else to
    value = build_message(out, PROFILE[side])
    return Send(OUT_TOPIC[side], key, value,
                ((headers.RECEIVER_BIC, (receiver.bic or receiver.cips_id or to.bic or "").encode()),
                 (headers.ISO_MESSAGE, msg_def_id(out).encode()), *extra))


def original_ref(p: Payment, msg_id: str | None = None) -> OriginalRef:
    return OriginalRef(msg_id=msg_id or p.msg_id, msg_def_id=f"{p.kind}.001.08", instr_id=p.instr_id,
                       end_to_end_id=p.end_to_end_id, tx_id=p.tx_id, uetr=p.uetr, amount=p.settlement_amount,
                       currency=p.currency, settlement_date=p.settlement_date)


def status(ports: Ports, p: Payment, side: Side, code: str, reason: str | None, now: datetime, *,
           text: str | None = None, purpose: str = "", cause: str | None = None) -> Send:
    """pacs.002 to the payment's sender on ``side``. Its headers carry the status, the reason code
    and, for a PDNG, the ``cause`` of the wait, so a receiver can act without parsing XML."""
    to = sender_of(p)
    msg_id = reply_id(p.uetr, f"pacs002|{code}|{reason}|{purpose}")
    report = StatusReport(
        header=_header(ports, side, to, "pacs.002.001.10", msg_id, now), msg_id=msg_id, created=now,
        original=original_ref(p), status=code,
        reason_code=reason, reason_text=(text or None) and text[:105],
        instructing_agent=router_agent(ports, side), instructed_agent=for_side(ports, to, side))
    extra = [(headers.ISO_STATUS, code.encode())]
    if reason:
        extra.append((headers.ISO_STATUS_REASON, reason.encode()))
    if cause:
        extra.append((headers.ROUTER_STATUS_CAUSE, cause.encode()))
    return _send(ports, side, p.uetr, report, to, tuple(extra))


def notifications(ports: Ports, p: Payment, outcome: SettlementOutcome, now: datetime) -> list[Send]:
    """camt.054 to the owner of every account the settlement moved, on the owner's side."""
    sends: list[Send] = []
    for i, posting in enumerate(outcome.postings):
        owner = ports.directory.by_bic(posting.owner)
        side: Side = "cips" if owner is not None and owner.cips_id else "corr"
        to = Agent(bic=owner.bic if owner else posting.owner)
        msg_id = reply_id(p.uetr, f"camt054|{outcome.settlement_id}|{i}")
        n = Notification(
            header=_header(ports, side, to, "camt.054.001.08", msg_id, now), msg_id=msg_id, created=now,
            notification_id=msg_id, account=Account(id=posting.account, currency=posting.currency),
            account_owner=for_side(ports, to, side), amount=posting.amount, currency=posting.currency,
            credit_debit=posting.direction, booking_date=now.date(), uetr=p.uetr,
            end_to_end_id=p.end_to_end_id, instr_id=p.instr_id)
        sends.append(_send(ports, side, p.uetr, n, to))
    return sends


def outbound_payment(state: PaymentState, ports: Ports, now: datetime) -> Payment:
    """The payment as it leaves the corridor, before translation: the delivered amount and
    currency, the original amount as the instructed amount, and the applied rate."""
    p = state.payment
    lock = state.lock
    if lock is None:
        return p
    return p.model_copy(update={"settlement_amount": lock.amount_out, "currency": lock.currency_out,
                                "instructed_amount": lock.amount_in, "instructed_currency": lock.currency_in,
                                "exchange_rate": lock.xchg_rate, "created": now})


@dataclass(frozen=True, slots=True)
class Delivery:
    send: Send
    msg_id: str
    receiver: str


def deliver(ports: Ports, p: Payment, side: Side) -> Delivery:
    out = ports.translate(p, side)
    assert isinstance(out, Payment)
    receiver = out.header.receiver if out.header is not None else out.creditor_agent
    rid = receiver.bic or receiver.cips_id or ""
    send = Send(OUT_TOPIC[side], p.uetr, build_message(out, PROFILE[side]),
                ((headers.RECEIVER_BIC, rid.encode()), (headers.ISO_MESSAGE, msg_def_id(out).encode())))
    return Delivery(send, out.msg_id, rid)


def forward_cancellation(ports: Ports, state: PaymentState, req: CancellationRequest, now: datetime) -> Send:
    """camt.056 to the receiving side for a payment that has already settled."""
    p = state.payment
    to = p.creditor_agent
    ident = reply_id(p.uetr, "camt056")
    fwd = CancellationRequest(
        header=_header(ports, state.target, to, "camt.056.001.08", ident, now), assignment_id=ident, created=now,
        assigner=router_agent(ports, state.target), assignee=for_side(ports, to, state.target),
        case_id=req.case_id, cancellation_id=req.cancellation_id,
        original=original_ref(p, state.delivered_msg_id), reason_code=req.reason_code, reason_text=req.reason_text)
    return _send(ports, state.target, p.uetr, fwd, to)


def resolution(ports: Ports, state: PaymentState, outcome: str, now: datetime) -> Send:
    """camt.029 to whoever asked for the cancellation."""
    p = state.payment
    req = state.cancel
    to = req.assigner if req is not None else sender_of(p)
    ident = reply_id(p.uetr, f"camt029|{outcome}")
    res = Resolution(
        header=_header(ports, state.source, to, "camt.029.001.09", ident, now), assignment_id=ident, created=now,
        assigner=router_agent(ports, state.source), assignee=for_side(ports, to, state.source),
        case_id=req.case_id if req else None, status=outcome,
        original=original_ref(p))
    return _send(ports, state.source, p.uetr, res, to)


def return_to_sender(ports: Ports, state: PaymentState, now: datetime) -> Send:
    """pacs.004 to the original sender once the reverse settlement has committed."""
    p = state.payment
    rev = state.reversal
    assert rev is not None and rev.amount_to_sender is not None
    to = sender_of(p)
    ident = reply_id(p.uetr, "pacs004")
    ret = Return(
        header=_header(ports, state.source, to, "pacs.004.001.09", ident, now), msg_id=ident, created=now,
        original=original_ref(p), rtr_id=(rev.return_id or ident)[:35], returned_amount=Decimal(rev.amount_to_sender),
        currency=rev.currency_to_sender or p.currency, settlement_date=now.date(), reason_code=rev.reason,
        instructing_agent=router_agent(ports, state.source), instructed_agent=for_side(ports, to, state.source))
    return _send(ports, state.source, p.uetr, ret, to)
