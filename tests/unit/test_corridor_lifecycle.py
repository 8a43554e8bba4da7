"""The corridor lifecycle with fake ports: every path of a payment, no Kafka."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from router.config import Settings
from router.corridor import lifecycle
from router.corridor import outbound as outbound_
from router.corridor.effects import Send
from router.corridor.outbound import original_ref
from router.corridor.ports import Verdict
from router.corridor.state import Phase
from router.fx.quote import Quote
from router.ingest import ingest
from router.iso20022.directory import Directory, load_directory
from router.iso20022.examples import cbpr_pacs008, cips_pacs008
from router.iso20022.inbound import normalise
from router.iso20022.model import Agent, CancellationRequest, CanonicalMessage, Payment, Return, Side, StatusReport
from router.iso20022.translate import to_cbpr, to_cips
from router.outcome import Ok
from router.settlement.model import Posting, SettlementRequest
from router.settlement.model import SettlementOutcome as SOutcome
from router.tracker.journey import PaymentOutcome, Stage

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@dataclass
class FakePorts:
    settings: Settings = field(default_factory=Settings)
    directory: Directory = field(default_factory=load_directory)
    verdict: Verdict = field(default_factory=lambda: Verdict("clear"))
    quote_list: list[Quote] = field(default_factory=list)

    def quotes(self) -> list[Quote]:
        return self.quote_list

    def translate(self, message: CanonicalMessage, to: Side) -> CanonicalMessage:
        result = (to_cips if to == "cips" else to_cbpr)(message, self.directory,
                                                       router_bic=self.settings.router_bic, now=NOW)
        assert isinstance(result, Ok), result
        return result.value.message

    def currency_of(self, bic: str) -> str | None:
        found = self.directory.by_bic(bic)
        return found.currencies[0] if found and found.currencies and not found.cips_id else None


def receive(payment: Payment, source: Side, ports: FakePorts, now: datetime = NOW) -> lifecycle.CorridorStep:
    """A new payment: the corridor asks the screening stage, which answers with ``ports.verdict``."""
    asked = lifecycle.on_payment(None, payment, source, ports, now)
    assert asked.state is not None and asked.state.phase is Phase.SCREENING
    request = next(x for x in asked.sends if x.topic == "screening.requests")
    assert json.loads(request.value)["uetr"] == payment.uetr
    return lifecycle.on_screening_result(asked.state, ports.verdict, ports, now)


def eur_quotes(at: datetime = NOW) -> list[Quote]:
    return [Quote(pair="EUR/CNY", bid=Decimal("7.7000"), ask=Decimal("7.7400"), ts=at, provider="BKCHCNBJ")]


def outbound() -> Payment:
    return cips_pacs008(amount=Decimal("7740.00"), creditor_agent_bic="NRDBDEFF")


def sent(step: lifecycle.CorridorStep, topic: str) -> list[Send]:
    return [s for s in step.sends if s.topic == topic]


def parsed(send: Send) -> CanonicalMessage:
    """The sent message read back, after checking it against its side's profile schema and rules."""
    result = ingest(send.value, max_bytes=1 << 20)
    assert isinstance(result, Ok), result
    side: Side = "cips" if send.topic == "cips.out" else "corr"
    msg = normalise(result.value.identified, side)
    assert isinstance(msg, Ok), (send.topic, msg, send.value.decode()[:3000])
    return msg.value


def settle(step: lifecycle.CorridorStep, ports: FakePorts, decision: str = "COMMIT", reason: str | None = None,
           sid: str | None = None) -> lifecycle.CorridorStep:
    assert step.state is not None
    req = SettlementRequest.model_validate_json(sent(step, "settlement.requests")[-1].value)
    postings = tuple(Posting(account=leg.debit_account, owner=leg.debit_account.split("/")[0], currency=leg.currency,
                             direction="DBIT", amount=leg.amount, balance_after=Decimal(0),
                             reserved_after=Decimal(0)) for leg in req.legs) if decision == "COMMIT" else ()
    outcome = SOutcome(settlement_id=sid or req.settlement_id, uetr=req.uetr, sender=req.sender, msg_id=req.msg_id,
                       decision=decision, status={"COMMIT": "ACSC", "PENDING": "PDNG"}.get(decision, "RJCT"),
                       final=decision != "PENDING", reason=reason, postings=postings, at=NOW)
    return lifecycle.on_settlement(step.state, outcome, ports, NOW + timedelta(seconds=1))


def test_outbound_happy_path_prices_settles_delivers_and_reports() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    step = receive(outbound(), "cips", ports)
    assert step.state is not None and step.state.phase is Phase.SETTLING
    req = SettlementRequest.model_validate_json(sent(step, "settlement.requests")[0].value)
    assert [leg.currency for leg in req.legs] == ["CNY", "EUR"]
    assert req.legs[0].debit_account == "ICBKCNBJ/CNY" and req.legs[0].credit_account == "BKCHCNBJ/CNY"
    assert req.legs[1].amount == Decimal("1000.00")  # 7740 CNY at the 7.74 ask
    done = settle(step, ports)
    assert done.state is not None and done.state.phase is Phase.DELIVERED
    delivered = parsed(sent(done, "corr.out")[0])
    assert isinstance(delivered, Payment)
    assert (delivered.currency, delivered.settlement_amount) == ("EUR", Decimal("1000.00"))
    assert (delivered.instructed_currency, delivered.instructed_amount) == ("CNY", Decimal("7740.00"))
    assert delivered.uetr == outbound().uetr and delivered.exchange_rate is not None
    statuses = [parsed(s) for s in sent(done, "cips.out") if b"pacs.002" in s.value]
    assert [s.status for s in statuses if isinstance(s, StatusReport)] == ["ACSC"]
    # each posting is told to its account's owner in the next camt.054 (the stage batches them)
    assert [(b.account, b.direction, b.uetr) for b in done.bookings] == [
        ("ICBKCNBJ/CNY", "DBIT", outbound().uetr), ("BKCHCNBJ/EUR", "DBIT", outbound().uetr)]
    snapshot = json.loads(sent(done, "payments.status")[-1].value)
    assert snapshot["outcome"] == "settled"
    assert [h["stage"] for h in snapshot["hops"]][:4] == ["received", "screened", "priced", "settled"]


def test_redelivered_payment_changes_nothing_and_reused_uetr_is_a_duplicate() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    first = receive(outbound(), "cips", ports)
    again = lifecycle.on_payment(first.state, outbound(), "cips", ports, NOW)
    assert again.sends == () and again.state == first.state
    other = outbound().model_copy(update={"msg_id": "CIPS0000000999"})
    dup = lifecycle.on_payment(first.state, other, "cips", ports, NOW)
    assert sent(dup, "settlement.requests") == []
    report = parsed(sent(dup, "cips.out")[0])
    assert isinstance(report, StatusReport) and (report.status, report.reason_code) == ("RJCT", "AM05")


def test_hold_then_release_then_settle() -> None:
    ports = FakePorts(quote_list=eur_quotes(), verdict=Verdict("hold", "RR04", "name match"))
    held = receive(outbound(), "cips", ports)
    assert held.state is not None and held.state.phase is Phase.HELD
    assert not sent(held, "settlement.requests")
    assert isinstance(pending := parsed(sent(held, "cips.out")[0]), StatusReport) and pending.status == "PDNG"
    release = {"action": "release", "analyst": "ana", "reason": "false positive"}
    released = lifecycle.on_screening_decision(held.state, release, ports, NOW)
    assert released.state is not None and released.state.phase is Phase.SETTLING
    assert released.state.journey.last(Stage.RELEASED).by == "ana"  # type: ignore[union-attr]
    reject = {"action": "reject", "analyst": "bo", "reason": "true match"}
    again = lifecycle.on_screening_decision(released.state, reject, ports, NOW)
    assert again.sends == ()


def test_sanctions_reject_answers_rjct_and_never_settles() -> None:
    ports = FakePorts(quote_list=eur_quotes(), verdict=Verdict("reject", "RR04", "embargoed country"))
    step = receive(outbound(), "cips", ports)
    assert step.state is not None and step.state.phase is Phase.REJECTED
    assert not sent(step, "settlement.requests")
    assert step.state.journey.outcome is PaymentOutcome.REJECTED


def test_stale_fx_waits_then_rejects_when_no_quote_arrives() -> None:
    ports = FakePorts(quote_list=eur_quotes(NOW - timedelta(hours=2)))
    step = receive(outbound(), "cips", ports)
    assert step.state is not None and step.state.phase is Phase.WAITING_FX
    later = NOW + ports.settings.fx.max_wait + timedelta(seconds=1)
    final = lifecycle.on_retry(step.state, ports, later)
    assert final.state is not None and final.state.phase is Phase.REJECTED
    report = parsed(sent(final, "cips.out")[0])
    assert isinstance(report, StatusReport) and report.status == "RJCT" and report.reason_code


def test_stale_fx_then_fresh_quote_settles_with_the_lock() -> None:
    ports = FakePorts(quote_list=eur_quotes(NOW - timedelta(hours=2)))
    step = receive(outbound(), "cips", ports)
    ports.quote_list = eur_quotes(NOW + timedelta(seconds=5))
    retried = lifecycle.on_retry(step.state, ports, NOW + timedelta(seconds=5))
    assert retried.state is not None and retried.state.phase is Phase.SETTLING and retried.state.lock is not None


def test_insufficient_liquidity_pending_then_abort_am04() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    step = receive(outbound(), "cips", ports)
    queued = settle(step, ports, "PENDING", "AM04")
    assert parsed(sent(queued, "cips.out")[0]).status == "PDNG"  # type: ignore[union-attr]
    aborted = settle(lifecycle.CorridorStep(queued.state, step.sends), ports, "ABORT", "AM04")
    assert aborted.state is not None and aborted.state.phase is Phase.REJECTED
    report = parsed(sent(aborted, "cips.out")[0])
    assert isinstance(report, StatusReport) and (report.status, report.reason_code) == ("RJCT", "AM04")


def test_correspondent_reject_after_settlement_reverses_at_the_current_rate() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    done = settle(receive(outbound(), "cips", ports), ports)
    assert done.state is not None
    rjct = StatusReport(msg_id="NRDB1", created=NOW, status="RJCT", reason_code="AC04",
                        original=original_ref(done.state.payment))
    ports.quote_list = [Quote(pair="EUR/CNY", bid=Decimal("7.6000"), ask=Decimal("7.6400"), ts=NOW,
                              provider="BKCHCNBJ")]
    rev = lifecycle.on_receiver_status(done.state, rjct, "corr", ports, NOW)
    assert rev.state is not None and rev.state.phase is Phase.REVERSING
    req = SettlementRequest.model_validate_json(sent(rev, "settlement.requests")[0].value)
    assert req.settlement_id.endswith(".R")
    assert req.legs[0].debit_account == "NRDBDEFF/EUR" and req.legs[0].amount == Decimal("1000.00")
    assert req.legs[1].credit_account == "ICBKCNBJ/CNY" and req.legs[1].amount == Decimal("7600.00")  # EUR at bid
    final = settle(rev, ports, sid=req.settlement_id)
    assert final.state is not None and final.state.phase is Phase.REJECTED
    assert final.state.journey.outcome is PaymentOutcome.REJECTED and final.state.reason == "AC04"


def test_return_runs_reverse_pvp_and_sends_pacs004_to_the_sender() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    done = settle(receive(outbound(), "cips", ports), ports)
    assert done.state is not None
    ret = Return(msg_id="NRDBR1", created=NOW, original=original_ref(done.state.payment), rtr_id="NRDBR1",
                 returned_amount=Decimal("1000.00"), currency="EUR", reason_code="AC04")
    rev = lifecycle.on_return(done.state, ret, "corr", ports, NOW)
    final = settle(rev, ports, sid=f"{outbound().uetr}.R")
    assert final.state is not None and final.state.phase is Phase.RETURNED
    pacs004 = [parsed(s) for s in sent(final, "cips.out") if b"pacs.004" in s.value]
    assert len(pacs004) == 1 and isinstance(pacs004[0], Return)
    assert (pacs004[0].currency, pacs004[0].returned_amount) == ("CNY", Decimal("7700.00"))


@pytest.mark.parametrize("phase_after", ["held", "settled"])
def test_cancellation_before_and_after_settlement(phase_after: str) -> None:
    verdict = Verdict("hold", "RR04", "hit") if phase_after == "held" else Verdict("clear")
    ports = FakePorts(quote_list=eur_quotes(), verdict=verdict)
    step = receive(outbound(), "cips", ports)
    if phase_after == "settled":
        step = settle(step, ports)
    cxl = CancellationRequest(assignment_id="CXL1", created=NOW, assigner=Agent(cips_id="C1021000012"),
                              assignee=Agent(bic="ROUTCNSHXXX"), original=original_ref(outbound()),
                              reason_code="DUPL")
    res = lifecycle.on_cancellation(step.state, cxl, "cips", ports, NOW)
    assert res.state is not None
    if phase_after == "held":
        assert res.state.phase is Phase.CANCELLED
        answer = parsed(sent(res, "cips.out")[0])
        assert answer.kind == "camt.029" and answer.status == "CNCL"  # type: ignore[union-attr]
    else:
        assert res.state.phase is Phase.DELIVERED
        fwd = parsed(sent(res, "corr.out")[0])
        assert fwd.kind == "camt.056"


def test_inbound_payment_is_paid_in_cny_to_the_chinese_participant() -> None:
    ports = FakePorts(quote_list=[Quote(pair="EUR/CNY", bid=Decimal("7.7000"), ask=Decimal("7.7400"), ts=NOW,
                                        provider="BKCHCNBJ")])
    p = cbpr_pacs008(amount=Decimal("100.00"), currency="EUR")
    step = receive(p, "corr", ports)
    req = SettlementRequest.model_validate_json(sent(step, "settlement.requests")[0].value)
    assert [(leg.debit_account, leg.credit_account) for leg in req.legs] == [
        ("NRDBDEFF/EUR", "BKCHCNBJ/EUR"), ("BKCHCNBJ/CNY", "ICBKCNBJ/CNY")]
    assert req.legs[1].amount == Decimal("770.00")  # EUR sold at the 7.70 bid
    done = settle(step, ports)
    delivered = next(parsed(s) for s in sent(done, "cips.out") if b"pacs.008" in s.value)
    assert isinstance(delivered, Payment) and delivered.currency == "CNY"
    assert any(parsed(s).kind == "pacs.002" for s in sent(done, "corr.out"))  # type: ignore[union-attr]


@pytest.mark.shared
def test_every_message_the_corridor_emits_is_valid_against_the_official_schemas(iso_xsd_dir: Path) -> None:
    from router.iso20022.schemas import validate_schemas

    ports = FakePorts(quote_list=eur_quotes())
    emitted: list[Send] = []
    held = receive(outbound(), "cips", FakePorts(quote_list=eur_quotes(), verdict=Verdict("hold", "RR04", "hit")))
    emitted += held.sends
    done = settle(receive(outbound(), "cips", ports), ports)
    emitted += done.sends
    emitted += outbound_.notifications(ports, done.bookings, NOW)
    assert done.state is not None
    ret = Return(msg_id="NRDBR1", created=NOW, original=original_ref(done.state.payment), rtr_id="NRDBR1",
                 returned_amount=Decimal("1000.00"), currency="EUR", reason_code="AC04")
    emitted += settle(lifecycle.on_return(done.state, ret, "corr", ports, NOW), ports,
                      sid=f"{outbound().uetr}.R").sends
    cxl = CancellationRequest(assignment_id="CXL1", created=NOW, assigner=Agent(cips_id="C1021000012"),
                              assignee=Agent(bic="ROUTCNSHXXX"), original=original_ref(outbound()),
                              reason_code="DUPL")
    emitted += lifecycle.on_cancellation(done.state, cxl, "cips", ports, NOW).sends
    emitted += lifecycle.on_cancellation(held.state, cxl, "cips", ports, NOW).sends
    inbound = settle(receive(cbpr_pacs008(amount=Decimal("100.00"), currency="EUR"), "corr", ports), ports)
    emitted += inbound.sends
    xml = [s for s in emitted if s.topic in ("cips.out", "corr.out")]
    kinds = set()
    for s in xml:
        ident = ingest(s.value, max_bytes=1 << 20)
        assert isinstance(ident, Ok)
        kinds.add(ident.value.message_id)
        assert validate_schemas(ident.value.identified, "base", iso_xsd_dir) == [], s.value.decode()[:2000]
    assert {"pacs.008.001.08", "pacs.002.001.10", "pacs.004.001.09", "camt.054.001.08", "camt.056.001.08",
            "camt.029.001.09"} <= kinds


def test_cancellation_after_settlement_ends_cancelled_when_the_receiver_returns_the_funds() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    done = settle(receive(outbound(), "cips", ports), ports)
    cxl = CancellationRequest(assignment_id="CXL1", created=NOW, assigner=Agent(cips_id="C1021000012"),
                              assignee=Agent(bic="ROUTCNSHXXX"), original=original_ref(outbound()),
                              reason_code="DUPL")
    forwarded = lifecycle.on_cancellation(done.state, cxl, "cips", ports, NOW)
    assert forwarded.state is not None
    ret = Return(msg_id="NRDBR2", created=NOW, original=original_ref(outbound()), rtr_id="NRDBR2",
                 returned_amount=Decimal("1000.00"), currency="EUR", reason_code="CUST")
    final = settle(lifecycle.on_return(forwarded.state, ret, "corr", ports, NOW), ports, sid=f"{outbound().uetr}.R")
    assert final.state is not None and final.state.phase is Phase.CANCELLED
    assert final.state.journey.outcome is PaymentOutcome.CANCELLED
    assert any(b"pacs.004" in s.value for s in sent(final, "cips.out"))


def test_screening_sees_the_ultimate_parties() -> None:
    from router.corridor.screening_view import screening_request
    from router.iso20022.model import Party, PostalAddress

    p = cips_pacs008().model_copy(update={
        "ultimate_debtor": Party(name="王小明", address=PostalAddress(town="上海", country="CN"))})
    req = screening_request(p, load_directory())
    assert req.ultimate_debtor is not None and req.ultimate_debtor.name == "王小明"
    assert req.ultimate_debtor.country == "CN" and req.ultimate_creditor is None
    assert screening_request(cips_pacs008(), load_directory()).ultimate_debtor is None


def test_the_journey_names_what_the_payment_carried_beyond_the_model() -> None:
    p = cips_pacs008().model_copy(update={"not_carried": ("RgltryRptg",)})
    step = lifecycle.on_payment(None, p, "cips", FakePorts(), NOW)
    assert step.state is not None
    (received,) = [h for h in step.state.journey.hops if h.stage is Stage.RECEIVED]
    assert received.detail["not_carried"] == ["RgltryRptg"]
    plain = lifecycle.on_payment(None, cips_pacs008(), "cips", FakePorts(), NOW).state
    assert plain is not None and "not_carried" not in plain.journey.hops[0].detail
