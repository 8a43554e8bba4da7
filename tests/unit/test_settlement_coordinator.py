"""The PvP coordinator as a pure state machine: one decision, deadlines, liquidity queue, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from router.settlement.coordinator import CoordinatorStep, Policy, SettlementState, Tick, due, handle
from router.settlement.model import AccountEvent, Commit, Credit, Posting, Release, Reserve, SettlementRequest
from router.settlement.settings import AccountOpening

D = Decimal
OPENING = {
    "CN1/CNY": AccountOpening(currency="CNY", amount=D("1000.00"), owner="CN1"),
    "FX/CNY": AccountOpening(currency="CNY", amount=D("0.00"), owner="FX"),
    "FX/USD": AccountOpening(currency="USD", amount=D("1000.00"), owner="FX"),
    "US1/USD": AccountOpening(currency="USD", amount=D("0.00"), owner="US1"),
}
POLICY = Policy(pvp_deadline_s=30, liquidity_max_wait_s=5, opening_balances=OPENING)
NO_QUEUE = Policy(pvp_deadline_s=30, liquidity_max_wait_s=0, opening_balances=OPENING)


def request(sid: str = "u1", msg_id: str = "M1", cny: str = "70.00", usd: str = "10.00",
            usd_debit: str = "FX/USD") -> SettlementRequest:
    return SettlementRequest.model_validate({
        "settlement_id": sid, "uetr": sid, "sender": "CN1", "msg_id": msg_id, "legs": [
            {"leg": "cny", "debit_account": "CN1/CNY", "credit_account": "FX/CNY", "currency": "CNY", "amount": cny},
            {"leg": "foreign", "debit_account": usd_debit, "credit_account": "US1/USD", "currency": "USD",
             "amount": usd},
        ]})


def ev(type_: str, leg: str | None = None, sid: str = "u1", **kw: object) -> AccountEvent:
    account = {"cny": "CN1/CNY", "foreign": "FX/USD", None: "msgid|CN1|M1"}[leg]
    return AccountEvent.model_validate({"type": type_, "settlement_id": sid, "account": account, "leg": leg, **kw})


def posted(type_: str, leg: str, account: str, direction: str, amount: str, balance: str) -> AccountEvent:
    p = Posting(account=account, owner=account.split("/")[0], currency=account.split("/")[1],
                direction=direction, amount=D(amount), balance_after=D(balance), reserved_after=D(0))  # type: ignore[arg-type]
    return AccountEvent(type=type_, settlement_id="u1", account=account, leg=leg, amount=D(amount),  # type: ignore[arg-type]
                        posting=p)


def run(events: list[object], policy: Policy = POLICY,
        t0: float = 1000.0) -> tuple[SettlementState | None, list[CoordinatorStep]]:
    state: SettlementState | None = None
    steps = []
    for i, e in enumerate(events):
        now = t0 + i if not isinstance(e, tuple) else e[1]
        step = handle(state, e[0] if isinstance(e, tuple) else e, now, policy)  # type: ignore[arg-type]
        steps.append(step)
        state = step.state
    return state, steps


def test_request_reserves_both_legs_and_claims_the_msgid() -> None:
    _, (step,) = run([request()])
    kinds = [(type(c).__name__, getattr(c, "account", None)) for c in step.commands]
    assert kinds == [("Reserve", "CN1/CNY"), ("Reserve", "FX/USD"), ("Claim", None)]
    assert step.decisions == () and step.outcomes == ()


def test_commit_needs_both_legs_and_the_claim_then_books_both_legs() -> None:
    state, steps = run([request(), ev("RESERVED", "cny"), ev("CLAIMED"), ev("RESERVED", "foreign")])
    assert [len(s.decisions) for s in steps] == [0, 0, 0, 1]
    decision = steps[-1].decisions[0]
    assert (decision.decision, decision.reason) == ("COMMIT", None)
    cmds = steps[-1].commands
    assert {(type(c).__name__, c.account) for c in cmds} == {
        ("Commit", "CN1/CNY"), ("Credit", "FX/CNY"), ("Commit", "FX/USD"), ("Credit", "US1/USD")}
    assert all(c.amount == (D("70.00") if c.leg == "cny" else D("10.00")) for c in cmds if isinstance(c, Credit))
    assert state is not None and state.phase == "COMMITTING"
    # the final outcome waits for all four postings and carries each new balance
    more = _continue(state)
    assert [len(s.outcomes) for s in more] == [0, 0, 0, 1, 0]
    out = more[3].outcomes[0]
    assert (out.decision, out.status, out.final, out.legs_booked) == ("COMMIT", "ACSC", True, ("cny", "foreign"))
    assert [p.balance_after for p in out.postings] == [D("930.00"), D("70.00"), D("990.00"), D("10.00")]
    # what the corridor tells the sender (pacs.002) and each moved account's owner (camt.054)
    assert (out.sender, out.status) == ("CN1", "ACSC")
    assert [(p.owner, p.direction, p.amount) for p in out.postings] == [
        ("CN1", "DBIT", D("70.00")), ("FX", "CRDT", D("70.00")), ("FX", "DBIT", D("10.00")),
        ("US1", "CRDT", D("10.00"))]


def _continue(state: SettlementState | None) -> list[CoordinatorStep]:
    steps = []
    for e in (posted("COMMITTED", "cny", "CN1/CNY", "DBIT", "70.00", "930.00"),
              posted("CREDITED", "cny", "FX/CNY", "CRDT", "70.00", "70.00"),
              posted("COMMITTED", "foreign", "FX/USD", "DBIT", "10.00", "990.00"),
              posted("CREDITED", "foreign", "US1/USD", "CRDT", "10.00", "10.00"),
              posted("CREDITED", "foreign", "US1/USD", "CRDT", "10.00", "10.00")):  # redelivered
        step = handle(state, e, 2000.0, POLICY)
        steps.append(step)
        state = step.state
    return steps


def test_insufficient_without_queue_aborts_am04_and_releases_every_leg() -> None:
    state, steps = run([request(), ev("RESERVED", "cny"), ev("INSUFFICIENT", "foreign")], NO_QUEUE)
    d = steps[-1].decisions[0]
    assert (d.decision, d.reason) == ("ABORT", "AM04")
    assert {(type(c).__name__, c.account) for c in steps[-1].commands} == {
        ("Release", "CN1/CNY"), ("Release", "FX/USD")}
    out = steps[-1].outcomes[0]
    assert (out.status, out.reason, out.final, out.postings) == ("RJCT", "AM04", True, ())
    assert (out.sender, out.uetr, out.msg_id, out.status, out.reason) == ("CN1", "u1", "M1", "RJCT", "AM04")
    # late answers after the decision change nothing
    late = handle(state, ev("RESERVED", "foreign"), 1010.0, NO_QUEUE)
    assert late.state is state and late.commands == () and late.decisions == ()


def test_queued_leg_waits_pdng_then_aborts_am04_when_the_wait_is_over() -> None:
    state, steps = run([request(), ev("INSUFFICIENT", "foreign"), ev("RESERVED", "cny")])
    assert state is not None and state.phase == "QUEUED"
    pending = steps[1].outcomes[0]
    assert (pending.status, pending.final, pending.reason) == ("PDNG", False, "AM04")
    assert due(state) == 1001.0 + 5  # queued at t=1001 for 5 s
    assert handle(state, Tick(), 1005.9, POLICY).decisions == ()
    late = handle(state, Tick(), 1006.0, POLICY)
    assert (late.decisions[0].decision, late.decisions[0].reason) == ("ABORT", "AM04")
    assert all(isinstance(c, Release) for c in late.commands)


def test_queued_leg_commits_when_liquidity_arrives_in_time() -> None:
    state, steps = run([request(), ev("CLAIMED"), ev("INSUFFICIENT", "foreign"), ev("RESERVED", "cny"),
                        ev("RESERVED", "foreign")])
    assert steps[-1].decisions[0].decision == "COMMIT"
    assert state is not None and due(state) is None  # no timer once decided


def test_deadline_aborts_ab05_when_an_answer_never_comes() -> None:
    state, _ = run([request(), ev("RESERVED", "cny")])
    assert state is not None and due(state) == 1000.0 + 30
    step = handle(state, Tick(), 1030.0, POLICY)
    assert (step.decisions[0].decision, step.decisions[0].reason) == ("ABORT", "AB05")


def test_request_deadline_earlier_than_policy_wins() -> None:
    r = request().model_copy(update={"deadline": datetime.fromtimestamp(1010.0, UTC)})
    step = handle(None, r, 1000.0, POLICY)
    assert step.state is not None and step.state.deadline == 1010.0
    expired = handle(None, r, 1011.0, POLICY)
    assert expired.decisions[0].reason == "AB05" and expired.commands == ()


def test_same_uetr_again_is_answered_duplicate_and_books_nothing() -> None:
    state, _ = run([request()])
    step = handle(state, request(msg_id="OTHER"), 1001.0, POLICY)
    assert step.commands == () and step.decisions == ()
    (dup,) = step.outcomes
    assert (dup.decision, dup.status, dup.reason, dup.duplicate_of, dup.final) == ("DUPLICATE", "RJCT", "AM05",
                                                                                   "u1", False)


def test_msgid_reused_under_another_uetr_aborts_am05() -> None:
    state, steps = run([request(), ev("RESERVED", "cny"),
                        ev("CLAIM_DUPLICATE", None, duplicate_of="u0", reason="AM05")])
    d = steps[-1].decisions[0]
    assert (d.decision, d.reason) == ("ABORT", "AM05")
    assert steps[-1].outcomes[0].duplicate_of == "u0"
    assert state is not None and state.claim == "DUPLICATE"


def test_currency_mismatch_with_configured_account_aborts_before_reserving() -> None:
    step = handle(None, request(usd_debit="FX/CNY"), 1000.0, POLICY)
    assert step.decisions[0].reason == "AM03"
    assert not any(isinstance(c, Reserve) for c in step.commands)


def test_rejected_leg_aborts_with_its_reason() -> None:
    _, steps = run([request(), ev("REJECTED", "cny", reason="AM03")])
    assert steps[-1].decisions[0].reason == "AM03"


def test_events_for_unknown_settlements_are_ignored() -> None:
    assert handle(None, ev("RESERVED", "cny"), 1.0, POLICY) == CoordinatorStep(None)
    assert handle(None, Tick(), 1.0, POLICY) == CoordinatorStep(None)


def test_commit_commands_never_precede_the_decision() -> None:
    # no Commit / Credit leaves the coordinator in any step without a COMMIT decision in it
    _, steps = run([request(), ev("RESERVED", "cny"), ev("RESERVED", "foreign"), ev("CLAIMED")])
    for s in steps:
        if any(isinstance(c, Commit | Credit) for c in s.commands):
            assert s.decisions and s.decisions[0].decision == "COMMIT"
