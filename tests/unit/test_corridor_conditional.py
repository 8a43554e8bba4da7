"""Programmable (conditional) payments through the corridor lifecycle and the real ledger logic
(pure functions, no Kafka): release, expiry, cancel, forged, replayed, late, and the race of a
release with the expiry, where exactly one wins."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from router.config import Settings
from router.corridor import conditional, lifecycle
from router.corridor.conditions import ConditionEvent, public_key_b64, sign
from router.corridor.effects import Send
from router.corridor.settings import CorridorSettings
from router.corridor.state import Phase
from router.iso20022.examples import conditional_pacs008
from router.iso20022.model import CancellationRequest, OriginalRef, StatusReport
from router.outcome import CONDITION_EXPIRED
from router.settlement import pvp
from router.settlement.book import Book
from router.settlement.check import LedgerView, check
from router.settlement.model import LEDGER_INPUT, Booked, Execute, Fund, Release, SettlementRequest
from router.settlement.settings import AccountOpening
from router.tracker.journey import PaymentOutcome, Stage
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, eur_quotes, parsed, sent

LOGISTICS = Ed25519PrivateKey.generate()
MALLORY = Ed25519PrivateKey.generate()
EXPIRY = NOW + timedelta(hours=2)
POLICY = pvp.Policy(pvp_deadline_s=60, liquidity_max_wait_s=10, owner_of=lambda a: a.split("/")[0])


def ports() -> FakePorts:
    s = Settings(corridor=CorridorSettings(condition_keys={"LOGISTICS1": public_key_b64(LOGISTICS),
                                                           "MALLORY1": public_key_b64(MALLORY)}))
    return FakePorts(settings=s, quote_list=eur_quotes())


def event(event_id: str = "EV1", *, key: Ed25519PrivateKey = LOGISTICS, party: str = "LOGISTICS1",
          condition: str = "PO-2026-0001", at: datetime = NOW + timedelta(minutes=30),
          uetr: str = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6") -> bytes:
    ev = ConditionEvent(event_id=event_id, uetr=uetr, condition_id=condition, party=party, at=at)
    return sign(ev, key).model_dump_json().encode()


@dataclass
class World:
    """One payment's corridor state and the ledger shard, wired by hand as the stages would be."""

    ports: FakePorts = field(default_factory=ports)
    book: Book = field(default_factory=Book)
    view: LedgerView = field(default_factory=LedgerView)
    state: lifecycle.PaymentState | None = None
    out: list[Send] = field(default_factory=list)
    dlq: list[str] = field(default_factory=list)
    ledger_refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        openings = {a: AccountOpening(currency=a[-3:], amount=Decimal("100000000.00"), owner=a.split("/")[0])
                    for a in ("ICBKCNBJ/CNY", "BKCHCNBJ/CNY", "BKCHCNBJ/EUR")}
        self.view.journal += pvp.open_accounts(self.book, openings, NOW.timestamp(), POLICY.owner_of).journal
        self.book.commit()

    def step(self, step: lifecycle.CorridorStep, now: datetime) -> None:
        if step.reject is not None:
            self.dlq.append(step.reject.text)
        self.state = step.state
        self.out += [s for s in step.sends if s.topic != "settlement.requests"]
        for s in step.sends:
            if s.topic == "settlement.requests":
                self.ledger(s.value, now)

    def ledger(self, raw: bytes, now: datetime) -> None:
        item = LEDGER_INPUT.validate_json(raw)
        t = now.timestamp()
        if isinstance(item, SettlementRequest):
            self.view.requests.append(item)
            fx = pvp.settle(self.book, item, t, POLICY, raw)
        elif isinstance(item, Execute):
            fx = pvp.execute(self.book, item, t, POLICY)
        elif isinstance(item, Release):
            fx = pvp.release(self.book, item, t, POLICY)
        else:
            assert isinstance(item, Fund)
            fx = pvp.fund(self.book, item, t, POLICY)
        self.ledger_effects(fx, now)

    def ledger_effects(self, fx: pvp.Effects, now: datetime) -> None:
        self.book.commit()
        if fx.refused:
            self.ledger_refused.append(fx.refused)
        self.view.journal += fx.journal
        self.view.outcomes += fx.outcomes
        for o in fx.outcomes:
            self.step(lifecycle.on_settlement(self.state, o, self.ports, now), now)

    def tick(self, now: datetime) -> None:
        self.ledger_effects(pvp.expire(self.book, now.timestamp(), POLICY), now)

    def condition_event(self, raw: bytes, now: datetime) -> None:
        self.step(conditional.on_condition_event(self.state, raw, self.ports, now), now)

    def receive(self) -> None:
        p = conditional_pacs008(amount=Decimal("7740.00"), expiry=EXPIRY)
        asked = lifecycle.on_payment(None, p, "cips", self.ports, NOW)
        self.state = asked.state
        self.step(lifecycle.on_screening_result(self.state, self.ports.verdict, self.ports, NOW), NOW)

    def statuses(self) -> list[tuple[str, str | None]]:
        out = []
        for s in self.out:
            if s.topic == "cips.out":
                m = parsed(s)
                if isinstance(m, StatusReport):
                    out.append((m.status, m.reason_code))
        return out

    def decisions(self) -> list[str]:
        return [j.decision for j in self.view.journal if isinstance(j, Booked)]

    def audit(self) -> None:
        self.view.accounts = dict(self.book.accounts)
        report = check(self.view)
        assert report.ok, report.violations


def held() -> World:
    w = World()
    w.receive()
    assert w.state is not None and w.state.phase is Phase.CONDITIONAL and w.state.condition_state == "held"
    assert w.statuses() == [("PDNG", None)]
    assert w.book.accounts["ICBKCNBJ/CNY"].reserved == Decimal("7740.00")
    return w


def test_release_settles_translates_and_delivers_without_the_condition() -> None:
    w = held()
    w.condition_event(event(), NOW + timedelta(minutes=31))
    assert w.dlq == [] and w.decisions() == ["COMMIT"]
    assert w.state is not None and w.state.phase is Phase.DELIVERED and w.state.condition_state == "met"
    assert w.statuses() == [("PDNG", None), ("ACSC", None)]
    corr = sent(lifecycle.CorridorStep(None, tuple(w.out)), "corr.out")
    [delivery] = [s for s in corr if parsed(s).kind == "pacs.008"]
    assert b"SplmtryData" not in delivery.value
    status = json.loads(next(s for s in reversed(w.out) if s.topic == "payments.status").value)
    assert status["condition"]["state"] == "met" and status["condition"]["id"] == "PO-2026-0001"
    assert {"reserved", "condition-met", "settled"} <= {h["stage"] for h in status["hops"]}
    w.audit()


def test_expiry_releases_the_reservation_and_rejects() -> None:
    w = held()
    w.tick(EXPIRY + timedelta(seconds=1))
    assert w.decisions() == ["ABORT"]
    assert w.state is not None and w.state.phase is Phase.REJECTED and w.state.condition_state == "expired"
    assert w.statuses()[-1] == ("RJCT", CONDITION_EXPIRED)
    assert w.book.accounts["ICBKCNBJ/CNY"].reserved == 0
    w.condition_event(event(), EXPIRY + timedelta(seconds=2))
    assert w.dlq and w.dlq[-1].startswith("late")
    w.audit()


def test_payer_cancellation_releases_the_reservation() -> None:
    w = held()
    assert w.state is not None
    cancel = CancellationRequest(
        assignment_id="CXL1", created=NOW, assigner=w.state.payment.debtor_agent,
        assignee=w.state.payment.instructed_agent or w.state.payment.debtor_agent, reason_code="CUST",
        original=OriginalRef(msg_id=w.state.payment.msg_id, msg_def_id="pacs.008.001.08", uetr=w.state.uetr))
    w.step(lifecycle.on_cancellation(w.state, cancel, "cips", w.ports, NOW + timedelta(minutes=5)),
           NOW + timedelta(minutes=5))
    assert w.decisions() == ["ABORT"]
    assert w.state is not None and w.state.phase is Phase.CANCELLED and w.state.condition_state == "cancelled"
    assert w.state.journey.outcome is PaymentOutcome.CANCELLED
    assert [j.reason for j in w.view.journal if isinstance(j, Booked)] == ["CUST"]
    w.audit()


@pytest.mark.parametrize(("raw", "why"), [
    (event(key=MALLORY), "forged: signature"),
    (event(party="MALLORY1", key=MALLORY), "forged: MALLORY1 may not release"),
    (event(party="NOBODY"), "forged: no key"),
    (event(condition="PO-OTHER"), "mismatch"),
    (event(at=EXPIRY + timedelta(seconds=1)), "late"),
    (b'{"event_id": 1}', "undecodable"),
])
def test_bad_events_go_to_the_dlq_and_move_nothing(raw: bytes, why: str) -> None:
    w = held()
    before = w.state
    w.condition_event(raw, NOW + timedelta(minutes=31))
    assert len(w.dlq) == 1 and w.dlq[0].startswith(why), w.dlq
    assert w.state is before and w.decisions() == []


def test_replayed_event_is_refused() -> None:
    w = held()
    w.condition_event(event("EV1"), NOW + timedelta(minutes=31))
    w.condition_event(event("EV1"), NOW + timedelta(minutes=32))
    w.condition_event(event("EV2"), NOW + timedelta(minutes=33))
    assert [d.split(":")[0] for d in w.dlq] == ["replayed", "replayed"]
    assert w.decisions() == ["COMMIT"]
    w.audit()


def test_release_racing_expiry_exactly_one_wins() -> None:
    # The event is in time at the corridor, but the ledger sees it after its hold has ended: the
    # ledger's clock decides, the payment is rejected, and the journal has one decision.
    w = held()
    assert w.state is not None
    step = conditional.on_condition_event(w.state, event(), w.ports, EXPIRY - timedelta(seconds=1))
    assert step.reject is None
    w.state = step.state
    execute = next(s for s in step.sends if s.topic == "settlement.requests")
    w.ledger(execute.value, EXPIRY + timedelta(milliseconds=1))
    w.tick(EXPIRY + timedelta(seconds=1))
    assert w.decisions() == ["ABORT"] and w.ledger_refused and "expired" in w.ledger_refused[0]
    assert w.state is not None and w.state.phase is Phase.REJECTED
    assert w.statuses()[-1] == ("RJCT", CONDITION_EXPIRED)
    w.audit()
    # And the other way round: the EXECUTE reaches the ledger first; the timer then finds nothing.
    v = held()
    v.condition_event(event(), EXPIRY - timedelta(seconds=1))
    v.tick(EXPIRY + timedelta(seconds=1))
    assert v.decisions() == ["COMMIT"] and v.state is not None and v.state.phase is Phase.DELIVERED
    v.audit()


def test_event_before_the_hold_is_confirmed_executes_once_it_is() -> None:
    w = World()
    p = conditional_pacs008(amount=Decimal("7740.00"), expiry=EXPIRY)
    w.state = lifecycle.on_payment(None, p, "cips", w.ports, NOW).state
    priced = lifecycle.on_screening_result(w.state, w.ports.verdict, w.ports, NOW)
    w.state = priced.state
    w.condition_event(event(), NOW + timedelta(seconds=1))  # before the ledger answered
    assert w.dlq == [] and w.state is not None and w.state.condition_state == "releasing"
    [request] = [s for s in priced.sends if s.topic == "settlement.requests"]
    w.ledger(request.value, NOW + timedelta(seconds=2))
    assert w.decisions() == ["COMMIT"] and w.state is not None and w.state.journey.last(Stage.SETTLED)
    w.audit()


def test_expired_condition_is_refused_before_reserving() -> None:
    w = World()
    p = conditional_pacs008(amount=Decimal("7740.00"), expiry=NOW - timedelta(seconds=1))
    w.state = lifecycle.on_payment(None, p, "cips", w.ports, NOW).state
    w.step(lifecycle.on_screening_result(w.state, w.ports.verdict, w.ports, NOW), NOW)
    assert w.state is not None and w.state.phase is Phase.REJECTED and w.view.requests == []
    assert w.statuses() == [("RJCT", CONDITION_EXPIRED)]
