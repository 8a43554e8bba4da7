"""Messages the corridor sends: status reports, notifications, deliveries, returns, cancellations.

Each function builds a canonical message addressed to one side and renders it with that side's
profile. Message ids are derived from the UETR and a purpose, so a replayed step sends the same
ids (receivers can drop duplicates) and no id is ever random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import msgspec

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
    NotificationEntry,
    OriginalRef,
    Payment,
    Profile,
    Resolution,
    Return,
    Side,
    StatusReport,
)
from router.iso20022.translate import CBPR_BIZ_SVC, CIPS_BIZ_SVC, addressing, derived_id, outbound_id
from router.settlement.model import SettlementOutcome

OUT_TOPIC: dict[Side, str] = {"cips": "cips.out", "corr": "corr.out"}
PROFILE: dict[Side, Profile] = {"cips": "cips", "corr": "cbpr"}
BIZ_SVC: dict[Side, str] = {"cips": CIPS_BIZ_SVC, "corr": CBPR_BIZ_SVC}
MSG_DEF = {"pacs.002": "pacs.002.001.10", "pacs.004": "pacs.004.001.09", "camt.054": "camt.054.001.08",
           "camt.056": "camt.056.001.08", "camt.029": "camt.029.001.09"}


def msg_def_id(message: CanonicalMessage) -> str:
    return message.header.msg_def_id if message.header is not None else message.kind


def reply_id(uetr: str, purpose: str) -> str:
    """A 35-character message id, the same every time for the same payment and purpose."""
    return derived_id("RTR", uetr, purpose, length=35)


def sender_of(p: Payment) -> Agent:
    if p.header is not None:
        return p.header.sender
    return p.instructing_agent or p.debtor_agent


@dataclass(frozen=True, slots=True)
class _Addressed:
    """One outbound message's envelope: its id on the wire, its header, and the router and the
    receiver as the receiving side names them."""

    msg_id: str
    header: Header
    me: Agent
    them: Agent


def _address(ports: Ports, side: Side, to: Agent | None, kind: str, ident: str, now: datetime) -> _Addressed:
    """What translation would make of a message the router writes to ``to`` on ``side``. The
    messages below are built in that form directly; ``tests/unit/test_outbound_wire.py`` holds
    them byte for byte to build-then-translate. (Plain constructors: pydantic's
    ``model_construct`` measured ~4x slower than validating these small models.)"""
    profile = PROFILE[side]
    me, them = addressing(ports.directory, ports.settings.router_bic, profile,
                          to if to is not None else Agent(bic=ports.settings.router_bic))
    msg_id = outbound_id(profile, ident, kind)
    header = Header(sender=me, receiver=them, biz_msg_id=msg_id, msg_def_id=MSG_DEF[kind], biz_svc=BIZ_SVC[side],
                    created=now)
    return _Addressed(msg_id, header, me, them)


def _wire_time(now: datetime) -> datetime:
    return now.replace(microsecond=0)  # the wire carries whole seconds


def _ship(side: Side, key: str, message: CanonicalMessage, a: _Addressed,
          extra: tuple[tuple[str, bytes], ...] = ()) -> Send:
    receiver = a.them
    return Send(OUT_TOPIC[side], key, build_message(message, PROFILE[side]),
                ((headers.RECEIVER_BIC, (receiver.bic or receiver.cips_id or "").encode()),
                 (headers.ISO_MESSAGE, a.header.msg_def_id.encode()), *extra))


def original_ref(p: Payment, msg_id: str | None = None) -> OriginalRef:
    return OriginalRef(msg_id=msg_id or p.msg_id, msg_def_id=f"{p.kind}.001.08", instr_id=p.instr_id,
                       end_to_end_id=p.end_to_end_id, tx_id=p.tx_id, uetr=p.uetr, amount=p.settlement_amount,
                       currency=p.currency, settlement_date=p.settlement_date)


def status(ports: Ports, p: Payment, side: Side, code: str, reason: str | None, now: datetime, *,
           text: str | None = None, purpose: str = "", cause: str | None = None) -> Send:
    """pacs.002 to the payment's sender on ``side``. Its headers carry the status, the reason code
    and, for a PDNG, the ``cause`` of the wait, so a receiver can act without parsing XML."""
    now = _wire_time(now)
    a = _address(ports, side, sender_of(p), "pacs.002", reply_id(p.uetr, f"pacs002|{code}|{reason}|{purpose}"),
                 now)
    report = StatusReport(
        header=a.header, msg_id=a.msg_id, created=now, original=original_ref(p), status=code,
        reason_code=reason, reason_text=(text or None) and text[:105],
        instructing_agent=a.me, instructed_agent=a.them)
    extra = [(headers.ISO_STATUS, code.encode())]
    if reason:
        extra.append((headers.ISO_STATUS_REASON, reason.encode()))
    if cause:
        extra.append((headers.ROUTER_STATUS_CAUSE, cause.encode()))
    return _ship(side, p.uetr, report, a, tuple(extra))


class Booking(msgspec.Struct, frozen=True):
    """One posting of a committed settlement, waiting for its account's next camt.054. The stage
    keeps these in its store between notifications (hence a compact codec, not a pydantic model)."""

    account: str
    owner: str  # the account owner's BIC: the directory says on which side it is told
    currency: str
    direction: Literal["CRDT", "DBIT"]
    amount: Decimal
    booked: date
    ref: str  # NtryRef: derived from the settlement and the posting, the same on every replay
    uetr: str
    end_to_end_id: str | None = None
    instr_id: str | None = None


BOOKINGS = msgspec.json.Decoder(list[Booking])
# Entries per camt.054: bounds a message's size (~0.5 KB an entry) far below a record's limit.
MAX_ENTRIES = 500


def bookings(p: Payment, outcome: SettlementOutcome, now: datetime) -> tuple[Booking, ...]:
    """What a settlement moved, one entry per posting in booking order, for the owners' camt.054."""
    day = _wire_time(now).date()
    return tuple(Booking(account=x.account, owner=x.owner, currency=x.currency, direction=x.direction,
                         amount=x.amount, booked=day, ref=reply_id(p.uetr, f"camt054|{outcome.settlement_id}|{i}"),
                         uetr=p.uetr, end_to_end_id=p.end_to_end_id, instr_id=p.instr_id)
                 for i, x in enumerate(outcome.postings))


def notifications(ports: Ports, booked: Sequence[Booking], now: datetime) -> list[Send]:
    """camt.054 to the owner of every account in ``booked``, on the owner's side: one per account
    (up to ``MAX_ENTRIES`` entries each), its entries in booking order. The ids derive from the
    entries, so the same bookings give the same messages."""
    by_account: dict[tuple[str, str, str], list[Booking]] = {}
    for b in booked:
        by_account.setdefault((b.owner, b.account, b.currency), []).append(b)
    sends: list[Send] = []
    now = _wire_time(now)
    for (owner_bic, account, currency), entries in by_account.items():
        owner = ports.directory.by_bic(owner_bic)
        side: Side = "cips" if owner is not None and owner.cips_id else "corr"
        to = Agent(bic=owner.bic if owner else owner_bic)
        for i in range(0, len(entries), MAX_ENTRIES):
            chunk = entries[i:i + MAX_ENTRIES]
            ident = derived_id("NTF", account, chunk[0].ref, chunk[-1].ref, str(len(chunk)), length=35)
            a = _address(ports, side, to, "camt.054", ident, now)
            n = Notification(
                header=a.header, msg_id=a.msg_id, created=now, notification_id=ident,
                account=Account(id=account, currency=currency), account_owner=a.them,
                entries=tuple(NotificationEntry(
                    amount=b.amount, currency=b.currency, credit_debit=b.direction,
                    booking_date=b.booked, entry_ref=b.ref, uetr=b.uetr, end_to_end_id=b.end_to_end_id,
                    instr_id=b.instr_id) for b in chunk))
            sends.append(_ship(side, account, n, a))
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
    now = _wire_time(now)
    a = _address(ports, state.target, p.creditor_agent, "camt.056", reply_id(p.uetr, "camt056"), now)
    fwd = CancellationRequest(
        header=a.header, assignment_id=a.msg_id, created=now, assigner=a.me, assignee=a.them,
        case_id=req.case_id, cancellation_id=req.cancellation_id,
        original=original_ref(p, state.delivered_msg_id), reason_code=req.reason_code, reason_text=req.reason_text)
    return _ship(state.target, p.uetr, fwd, a)


def resolution(ports: Ports, state: PaymentState, outcome: str, now: datetime) -> Send:
    """camt.029 to whoever asked for the cancellation."""
    p = state.payment
    req = state.cancel
    now = _wire_time(now)
    to = req.assigner if req is not None else sender_of(p)
    a = _address(ports, state.source, to, "camt.029", reply_id(p.uetr, f"camt029|{outcome}"), now)
    res = Resolution(
        header=a.header, assignment_id=a.msg_id, created=now, assigner=a.me, assignee=a.them,
        case_id=req.case_id if req else None, status=outcome, original=original_ref(p))
    return _ship(state.source, p.uetr, res, a)


def return_to_sender(ports: Ports, state: PaymentState, now: datetime) -> Send:
    """pacs.004 to the original sender once the reverse settlement has committed."""
    p = state.payment
    rev = state.reversal
    assert rev is not None and rev.amount_to_sender is not None
    now = _wire_time(now)
    ident = reply_id(p.uetr, "pacs004")
    a = _address(ports, state.source, sender_of(p), "pacs.004", ident, now)
    ret = Return(
        header=a.header, msg_id=a.msg_id, created=now, original=original_ref(p),
        rtr_id=(rev.return_id or ident)[:35], returned_amount=Decimal(rev.amount_to_sender),
        currency=rev.currency_to_sender or p.currency, settlement_date=now.date(),
        settlement_method="INDA" if state.source == "corr" else "CLRG", reason_code=rev.reason,
        instructing_agent=a.me, instructed_agent=a.them)
    return _ship(state.source, p.uetr, ret, a)
