"""The corridor writes its own messages (status, notification, return, cancellation, resolution)
in their outbound form at once (router.corridor.outbound). These tests hold every one of them,
byte for byte, to the slower road it replaced: build the message neutrally, then translate it to
the receiving side's profile (router.iso20022.translate), then render it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from router import headers
from router.corridor import outbound
from router.corridor.state import PaymentState, Phase, Reversal
from router.iso20022.build import build_message
from router.iso20022.examples import cips_pacs008
from router.iso20022.model import (
    Account,
    Agent,
    CancellationRequest,
    CanonicalMessage,
    Header,
    Notification,
    NotificationEntry,
    Payment,
    Resolution,
    Return,
    Side,
    StatusReport,
)
from router.iso20022.translate import derived_id
from router.settlement.model import Posting, SettlementOutcome
from router.tracker.journey import Journey
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, parsed

NOW_US = NOW.replace(microsecond=123456)  # the wire carries whole seconds: both roads drop these


def _translated(ports: FakePorts, message: CanonicalMessage, side: Side) -> bytes:
    """The old road: a neutral message translated (at the same instant) and rendered."""
    return build_message(ports.translate(message, side), outbound.PROFILE[side])


def _header(ports: FakePorts, side: Side, to: Agent, msg_def: str, msg_id: str, now: datetime) -> Header:
    return Header(sender=_router(ports, side), receiver=_for_side(ports, to, side), biz_msg_id=msg_id,
                  msg_def_id=msg_def, biz_svc=outbound.BIZ_SVC[side], created=now)


def _router(ports: FakePorts, side: Side) -> Agent:
    bic = ports.settings.router_bic
    me = ports.directory.by_bic(bic) if side == "cips" else None
    return Agent(bic=bic, cips_id=me.cips_id if me else None)


def _for_side(ports: FakePorts, agent: Agent, side: Side) -> Agent:
    known = ports.directory.by_bic(agent.bic) if agent.bic else None
    if side == "cips":
        return Agent(bic=agent.bic, cips_id=agent.cips_id or (known.cips_id if known else None))
    return Agent(bic=agent.bic, member_id=agent.member_id, clearing_system=agent.clearing_system)


def _payment(sender_bic: str = "ICBKCNBJ") -> Payment:
    p = cips_pacs008(amount=Decimal("7740.00"), creditor_agent_bic="NRDBDEFF")
    if sender_bic == "ICBKCNBJ":
        return p
    # a payment that came from a correspondent: its header names the foreign bank
    assert p.header is not None
    return p.model_copy(update={"header": p.header.model_copy(update={"sender": Agent(bic=sender_bic)})})


@pytest.mark.parametrize(("side", "sender"), [("cips", "ICBKCNBJ"), ("corr", "NRDBDEFF")])
@pytest.mark.parametrize(("code", "reason", "text"), [("ACSC", None, None), ("PDNG", "AM04", "waiting for liquidity"),
                                                      ("RJCT", "RR04", "x" * 200)])
def test_a_status_report_is_what_translation_would_make_of_it(side: Side, sender: str, code: str,
                                                              reason: str | None, text: str | None) -> None:
    ports, p = FakePorts(), _payment(sender)
    sent = outbound.status(ports, p, side, code, reason, NOW_US, text=text, purpose="t")
    to = outbound.sender_of(p)
    msg_id = outbound.reply_id(p.uetr, f"pacs002|{code}|{reason}|t")
    neutral = StatusReport(header=_header(ports, side, to, "pacs.002.001.10", msg_id, NOW), msg_id=msg_id,
                           created=NOW, original=outbound.original_ref(p), status=code, reason_code=reason,
                           reason_text=(text or None) and text[:105], instructing_agent=_router(ports, side),
                           instructed_agent=_for_side(ports, to, side))
    assert sent.value == _translated(ports, neutral, side)
    assert dict(sent.headers)[headers.ISO_STATUS] == code.encode()
    parsed(sent)  # and it passes its side's profile schema and rules


def test_every_notification_is_what_translation_would_make_of_it() -> None:
    ports, p = FakePorts(), _payment()
    postings = tuple(
        Posting(account=a, owner=a.split("/")[0], currency=a.split("/")[1], direction=d, amount=Decimal(amt),
                balance_after=Decimal(0), reserved_after=Decimal(0))
        for a, d, amt in (("ICBKCNBJ/CNY", "DBIT", "7740.00"), ("BKCHCNBJ/CNY", "CRDT", "7740.00"),
                          ("BKCHCNBJ/EUR", "DBIT", "1000.00"), ("NRDBDEFF/EUR", "CRDT", "1000.00")))
    out = SettlementOutcome(settlement_id="S1", uetr=p.uetr, sender="ICBKCNBJ", msg_id="M1", decision="COMMIT",
                            status="ACSC", final=True, postings=postings, at=NOW)
    booked = outbound.bookings(p, out, NOW_US)
    # a second settlement's postings on two of the same accounts: entries of the same notifications
    later = outbound.bookings(p, out.model_copy(update={"settlement_id": "S2", "postings": postings[:2]}), NOW_US)
    sent = outbound.notifications(ports, (*booked, *later), NOW_US)
    assert len(sent) == 4  # one per account
    for send, posting in zip(sent, postings, strict=True):
        owner = ports.directory.by_bic(posting.owner)
        side: Side = "cips" if owner is not None and owner.cips_id else "corr"
        to = Agent(bic=owner.bic if owner else posting.owner)
        entries = [b for b in (*booked, *later) if b.account == posting.account]
        msg_id = derived_id("NTF", posting.account, entries[0].ref, entries[-1].ref, str(len(entries)), length=35)
        neutral = Notification(
            header=_header(ports, side, to, "camt.054.001.08", msg_id, NOW), msg_id=msg_id, created=NOW,
            notification_id=msg_id, account=Account(id=posting.account, currency=posting.currency),
            account_owner=_for_side(ports, to, side), entries=tuple(NotificationEntry(
                amount=posting.amount, currency=posting.currency, credit_debit=posting.direction,
                booking_date=NOW.date(), entry_ref=b.ref, uetr=p.uetr, end_to_end_id=p.end_to_end_id,
                instr_id=p.instr_id) for b in entries))
        assert send.value == _translated(ports, neutral, side), posting.account
        assert send.topic == outbound.OUT_TOPIC[side] and send.key == posting.account
        parsed(send)


def _state(source: Side, **update: object) -> PaymentState:
    p = _payment("ICBKCNBJ" if source == "cips" else "NRDBDEFF")
    return PaymentState(uetr=p.uetr, source=source, direction="outbound" if source == "cips" else "inbound",
                        phase=Phase.DELIVERED, payment=p, journey=Journey(uetr=p.uetr), **update)


@pytest.mark.parametrize("source", ["cips", "corr"])
def test_case_messages_and_returns_are_what_translation_would_make_of_them(source: Side) -> None:
    ports = FakePorts()
    asker = Agent(bic="ICBKCNBJ" if source == "cips" else "NRDBDEFF")
    req = CancellationRequest(assignment_id="CXL1", created=NOW, assigner=asker, assignee=Agent(bic="ROUTCNSHXXX"),
                              case_id="CASE1", cancellation_id="C1", original=outbound.original_ref(_payment()),
                              reason_code="DUPL", reason_text="sent twice")
    state = _state(source, cancel=req, delivered_msg_id="DLV1",
                   reversal=Reversal(kind="return", settlement_id="R1", reason="AC04", amount_back="1000.00",
                                     currency_back="EUR", amount_to_sender="7700.00", currency_to_sender="CNY",
                                     return_id="RET1"))
    p, src, tgt = state.payment, state.source, state.target

    ident = outbound.reply_id(p.uetr, "camt056")
    fwd = CancellationRequest(
        header=_header(ports, tgt, p.creditor_agent, "camt.056.001.08", ident, NOW), assignment_id=ident, created=NOW,
        assigner=_router(ports, tgt), assignee=_for_side(ports, p.creditor_agent, tgt), case_id="CASE1",
        cancellation_id="C1", original=outbound.original_ref(p, "DLV1"), reason_code="DUPL", reason_text="sent twice")
    assert outbound.forward_cancellation(ports, state, req, NOW_US).value == _translated(ports, fwd, tgt)

    ident = outbound.reply_id(p.uetr, "camt029|CNCL")
    res = Resolution(header=_header(ports, src, asker, "camt.029.001.09", ident, NOW), assignment_id=ident,
                     created=NOW, assigner=_router(ports, src), assignee=_for_side(ports, asker, src),
                     case_id="CASE1", status="CNCL", original=outbound.original_ref(p))
    assert outbound.resolution(ports, state, "CNCL", NOW_US).value == _translated(ports, res, src)

    to = outbound.sender_of(p)
    ident = outbound.reply_id(p.uetr, "pacs004")
    ret = Return(header=_header(ports, src, to, "pacs.004.001.09", ident, NOW), msg_id=ident, created=NOW,
                 original=outbound.original_ref(p), rtr_id="RET1", returned_amount=Decimal("7700.00"), currency="CNY",
                 settlement_date=NOW.date(), reason_code="AC04", instructing_agent=_router(ports, src),
                 instructed_agent=_for_side(ports, to, src))
    sent = outbound.return_to_sender(ports, state, NOW_US)
    assert sent.value == _translated(ports, ret, src)
    parsed(sent)
