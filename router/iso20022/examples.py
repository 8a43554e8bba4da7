"""Example messages of the corridor, as canonical models (simulators, demos, tests, benchmarks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from router.iso20022.model import (
    Account,
    Agent,
    CancellationRequest,
    Condition,
    Header,
    MessageReject,
    Notification,
    NotificationEntry,
    OriginalRef,
    Party,
    Payment,
    PostalAddress,
    Resolution,
    Return,
    StatusReport,
)

EXAMPLE_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def cips_pacs008(
    *,
    uetr: str = "5c3b4a1e-9d2f-4c8b-a7e6-1f0d2c3b4a59",
    amount: Decimal = Decimal("125000.00"),
    currency: str = "CNY",
    debtor_name: str = "李芳卫",
    creditor_name: str = "Hans Becker GmbH",
    debtor_agent: str = "C1021000012",
    creditor_agent_bic: str = "NRDBDEFF",
    debtor_wallet: str | None = "0011234567890123",
    creditor_iban: str = "DE89370400440532013000",
    instr_id: str = "CIPS20261102ICBC000000123",
    end_to_end_id: str = "E2E-20261102-0001",
    purpose: str = "CGOD",
    router_bic: str = "ROUTCNSHXXX",
) -> Payment:
    """A customer credit transfer as a CIPS participant sends it to the router."""
    return Payment(
        kind="pacs.008",
        header=Header(sender=Agent(cips_id=debtor_agent), receiver=Agent(bic=router_bic),
                      biz_msg_id="CIPS0000000001", msg_def_id="pacs.008.001.08", biz_svc="cips.xb.01",
                      created=EXAMPLE_TIME),
        msg_id="CIPS0000000001", created=EXAMPLE_TIME, instr_id=instr_id, end_to_end_id=end_to_end_id,
        uetr=uetr, settlement_amount=amount, currency=currency, settlement_date=date(2026, 11, 2),
        settlement_method="CLRG", clearing_system="CIPS", charge_bearer="SHAR", purpose=purpose,
        instructing_agent=Agent(cips_id=debtor_agent), instructed_agent=Agent(bic=router_bic),
        debtor=Party(name=debtor_name, address=PostalAddress(
            street="建国门外大街", building_number="1", post_code="100004", town="北京", country="CN")),
        debtor_account=Account(id=debtor_wallet, kind="ecny", scheme="ECNY") if debtor_wallet else Account(
            id="6222020200112233445"),
        debtor_agent=Agent(cips_id=debtor_agent),
        creditor_agent=Agent(bic=creditor_agent_bic),
        creditor=Party(name=creditor_name, address=PostalAddress(
            street="Mainzer Landstrasse", building_number="16", post_code="60325", town="Frankfurt am Main",
            country="DE")),
        creditor_account=Account(id=creditor_iban, kind="iban"),
        remittance=("发票 INV-2026-0042",),
    )


def cbpr_pacs008(
    *,
    uetr: str = "0f6c1a2b-3d4e-4f50-8a1b-2c3d4e5f6a7b",
    amount: Decimal = Decimal("8400.00"),
    currency: str = "CNY",
    creditor_agent_bic: str = "ICBKCNBJ",
    creditor_wallet: str | None = "0019876543210987",
    router_bic: str = "ROUTCNSHXXX",
    sender_bic: str = "NRDBDEFF",
) -> Payment:
    """An inbound customer credit transfer as a correspondent sends it (CBPR+)."""
    return Payment(
        kind="pacs.008",
        header=Header(sender=Agent(bic=sender_bic), receiver=Agent(bic=router_bic), biz_msg_id="NRDB2026110200017",
                      msg_def_id="pacs.008.001.08", biz_svc="swift.cbprplus.02", created=EXAMPLE_TIME),
        msg_id="NRDB2026110200017", created=EXAMPLE_TIME, instr_id="NRDB17", end_to_end_id="INV-77-2026",
        uetr=uetr, settlement_amount=amount, currency=currency, settlement_date=date(2026, 11, 2),
        settlement_method="INDA", charge_bearer="SHAR", purpose="SALA",
        instructing_agent=Agent(bic=sender_bic), instructed_agent=Agent(bic=router_bic),
        debtor=Party(name="Anna Schmidt", address=PostalAddress(street="Zeil", building_number="5",
                                                                post_code="60313", town="Frankfurt am Main",
                                                                country="DE")),
        debtor_account=Account(id="DE89370400440532013000", kind="iban"),
        debtor_agent=Agent(bic=sender_bic), creditor_agent=Agent(bic=creditor_agent_bic),
        creditor=Party(name="WANG XIAOMING", address=PostalAddress(street="Nanjing Road", building_number="100",
                                                                   town="Shanghai", country="CN")),
        creditor_account=Account(id=creditor_wallet) if creditor_wallet else Account(id="6222020200998877665"),
        remittance=("SALARY OCTOBER 2026",),
    )


def _header(sender: Agent, receiver: Agent, msg_def: str, biz_id: str, side: str) -> Header:
    return Header(sender=sender, receiver=receiver, biz_msg_id=biz_id, msg_def_id=msg_def,
                  biz_svc="cips.xb.01" if side == "cips" else "swift.cbprplus.02", created=EXAMPLE_TIME)


def _ends(side: str) -> tuple[Agent, Agent]:
    """(sender, receiver) of a message arriving at the router from ``side``."""
    router = Agent(bic="ROUTCNSHXXX")
    return (Agent(cips_id="C1041000018"), router) if side == "cips" else (Agent(bic="THMSGB2L"), router)


def original_ref(side: str) -> OriginalRef:
    return OriginalRef(msg_id="ORIGMSG0001", msg_def_id="pacs.008.001.08", instr_id="ORIGINSTR1",
                       end_to_end_id="E2E-ORIG-0001", uetr="7d1c2b3a-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
                       amount=Decimal("1500.00"), currency="CNY" if side == "cips" else "EUR",
                       settlement_date=date(2026, 11, 2))


def cips_pacs009() -> Payment:
    s, r = _ends("cips")
    return Payment(
        kind="pacs.009", header=_header(s, r, "pacs.009.001.08", "CIPSFI0001", "cips"), msg_id="CIPSFI0001",
        created=EXAMPLE_TIME, instr_id="CIPSFI0001", end_to_end_id="FI-E2E-0001",
        uetr="3e2d1c0b-a987-4654-b321-0fedcba98765", settlement_amount=Decimal("2000000.00"), currency="CNY",
        settlement_date=date(2026, 11, 2), settlement_method="CLRG", clearing_system="CIPS", purpose="CINT",
        instructing_agent=s, instructed_agent=r, debtor_agent=Agent(cips_id="C1041000018"),
        creditor_agent=Agent(bic="THMSGB2L"),
    )


def cbpr_pacs009() -> Payment:
    s, r = _ends("corr")
    return Payment(
        kind="pacs.009", header=_header(s, r, "pacs.009.001.08", "THMSFI0001", "corr"), msg_id="THMSFI0001",
        created=EXAMPLE_TIME, instr_id="THMSFI0001", end_to_end_id="FI-E2E-0002",
        uetr="4f3e2d1c-0ba9-4876-a543-210fedcba987", settlement_amount=Decimal("750000.00"), currency="CNY",
        settlement_date=date(2026, 11, 2), settlement_method="INGA", purpose="INTC",
        instructing_agent=s, instructed_agent=r, debtor_agent=Agent(bic="THMSGB2L"),
        creditor_agent=Agent(bic="BKCHCNBJ"),
    )


def status_report(side: str, status: str = "ACSC", reason: str | None = None) -> StatusReport:
    s, r = _ends(side)
    return StatusReport(header=_header(s, r, "pacs.002.001.10", f"STS{side.upper()}0001", side),
                        msg_id=f"STS{side.upper()}0001", created=EXAMPLE_TIME, original=original_ref(side),
                        status=status, reason_code=reason,
                        instructing_agent=s, instructed_agent=r)


def payment_return(side: str) -> Return:
    s, r = _ends(side)
    o = original_ref(side)
    return Return(header=_header(s, r, "pacs.004.001.09", f"RTR{side.upper()}0001", side),
                  msg_id=f"RTR{side.upper()}0001", created=EXAMPLE_TIME, original=o, rtr_id=f"RTRID{side.upper()}1",
                  returned_amount=o.amount or Decimal(1), currency=o.currency or "CNY",
                  settlement_date=date(2026, 11, 3),
                  settlement_method="CLRG" if side == "cips" else "INDA", charge_bearer="SHAR", reason_code="AC04",
                  instructing_agent=s, instructed_agent=r)


def cancellation(side: str) -> CancellationRequest:
    s, r = _ends(side)
    return CancellationRequest(header=_header(s, r, "camt.056.001.08", f"CXL{side.upper()}0001", side),
                               assignment_id=f"CXL{side.upper()}0001", created=EXAMPLE_TIME, assigner=s, assignee=r,
                               case_id=f"CASE{side.upper()}0001", original=original_ref(side), reason_code="DUPL")


def resolution(side: str) -> Resolution:
    s, r = _ends(side)
    return Resolution(header=_header(s, r, "camt.029.001.09", f"RSL{side.upper()}0001", side),
                      assignment_id=f"RSL{side.upper()}0001", created=EXAMPLE_TIME, assigner=s, assignee=r,
                      case_id=f"CASE{side.upper()}0001", status="CNCL", original=original_ref(side))


def notification(side: str) -> Notification:
    s, r = _ends(side)
    return Notification(header=_header(s, r, "camt.054.001.08", f"NTF{side.upper()}0001", side),
                        msg_id=f"NTF{side.upper()}0001", created=EXAMPLE_TIME, notification_id=f"NTFID{side.upper()}1",
                        account=Account(id="0041234567890123", kind="ecny", scheme="ECNY") if side == "cips"
                        else Account(id="GB33BUKB20201555555555", kind="iban"),
                        account_owner=s, entries=(NotificationEntry(
                            amount=Decimal("1500.00"), currency="CNY" if side == "cips" else "GBP",
                            credit_debit="CRDT", booking_date=date(2026, 11, 2),
                            uetr="7d1c2b3a-4e5f-4a6b-9c7d-8e9f0a1b2c3d", end_to_end_id="E2E-ORIG-0001"),))


def message_reject(side: str) -> MessageReject:
    s, r = _ends(side)
    return MessageReject(header=_header(s, r, "admi.002.001.01", f"REJ{side.upper()}0001", side),
                         reference="ORIGMSG0001", reason="FF01", created=EXAMPLE_TIME,
                         location="/Document/FIToFICstmrCdtTrf", description="schema invalid")


def conditional_pacs008(*, uetr: str = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", condition_id: str = "PO-2026-0001",
                        releasing_party: str = "LOGISTICS1", expiry: datetime | None = None,
                        amount: Decimal = Decimal("125000.00")) -> Payment:
    """A programmable e-CNY payment: settles when ``releasing_party`` confirms delivery."""
    p = cips_pacs008(uetr=uetr, amount=amount)
    return p.model_copy(update={"condition": Condition(
        id=condition_id, releasing_party=releasing_party,
        expiry=expiry or EXAMPLE_TIME + timedelta(days=2))})
