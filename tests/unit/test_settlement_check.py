"""The ledger check finds each kind of violation it promises to find, and passes a clean ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from router.settlement.check import LedgerView, check
from router.settlement.coordinator import Policy, SettlementState, handle
from router.settlement.ledger import AccountState, Entry, apply, entry_key, open_account
from router.settlement.model import AccountEvent, Decision, SettlementRequest
from router.settlement.settings import AccountOpening

D = Decimal
OPENING = {
    "CN1/CNY": AccountOpening(currency="CNY", amount=D("100.00"), owner="CN1"),
    "FX/CNY": AccountOpening(currency="CNY", amount=D("0.00"), owner="FX"),
    "FX/USD": AccountOpening(currency="USD", amount=D("50.00"), owner="FX"),
    "US1/USD": AccountOpening(currency="USD", amount=D("0.00"), owner="US1"),
}
POLICY = Policy(pvp_deadline_s=30, liquidity_max_wait_s=0, opening_balances=OPENING)
T = datetime(2026, 1, 1, tzinfo=UTC)


def req(sid: str, cny: str = "60.00", usd: str = "8.00", msg_id: str | None = None) -> SettlementRequest:
    return SettlementRequest.model_validate({
        "settlement_id": sid, "uetr": sid, "sender": "CN1", "msg_id": msg_id or f"M-{sid}", "legs": [
            {"leg": "cny", "debit_account": "CN1/CNY", "credit_account": "FX/CNY", "currency": "CNY", "amount": cny},
            {"leg": "foreign", "debit_account": "FX/USD", "credit_account": "US1/USD", "currency": "USD",
             "amount": usd}]})


def settle_all(*reqs: SettlementRequest) -> LedgerView:
    """Run requests to completion synchronously through the real pure functions."""
    view = LedgerView()
    states: dict[str, SettlementState] = {}
    accounts: dict[str, AccountState] = {}
    entries: dict[tuple[str, str, str, str], Entry] = {}
    inbox: list[tuple[str, object]] = [(r.settlement_id, r) for r in reqs]
    view.requests.extend(reqs)
    while inbox:
        sid, msg = inbox.pop(0)
        step = handle(states.get(sid), msg, 1.0, POLICY)  # type: ignore[arg-type]
        if step.state is not None:
            states[sid] = step.state
        view.events.extend(step.decisions)
        view.outcomes.extend(step.outcomes)
        for cmd in step.commands:
            if cmd.type == "CLAIM":
                inbox.append((cmd.settlement_id, AccountEvent(type="CLAIMED", settlement_id=cmd.settlement_id,
                                                              account="msgid")))
                continue
            a = accounts.get(cmd.account) or open_account(cmd.account, OPENING.get(cmd.account),
                                                          currency="CNY", owner="X")
            applied = apply(a, entries.get(entry_key(cmd)), cmd)  # type: ignore[arg-type]
            accounts[cmd.account] = applied.account
            entries.update({(e.account, e.settlement_id, e.leg, e.role): e for e in applied.entries})
            view.events.extend(applied.events)
            inbox.extend((ev.settlement_id, ev) for ev in applied.events)
    view.accounts = accounts
    return view


def test_clean_ledger_passes_with_totals() -> None:
    view = settle_all(req("u1"), req("u2"))  # u2 lacks CNY: aborted AM04
    r = check(view, OPENING)
    assert r.ok, r.violations
    assert (r.settlements, r.commits, r.aborts, r.abort_reasons) == (2, 1, 1, {"AM04": 1})
    assert r.currencies["CNY"] == {"opening": "100.00", "funded": "0", "balances": "100.00", "reserved": "0.00"}


def test_double_booking_is_found() -> None:
    view = settle_all(req("u1"))
    booked = next(e for e in view.events if isinstance(e, AccountEvent) and e.type == "CREDITED")
    view.events.append(booked)
    r = check(view, OPENING)
    assert any("booked 2 times" in v for v in r.violations)
    # the journal now disagrees with the account state it claims to explain
    assert any("!= opening" in v and "postings" in v for v in r.violations)


def test_money_created_or_lost_is_found() -> None:
    view = settle_all(req("u1"))
    a = view.accounts["US1/USD"]
    view.accounts["US1/USD"] = a.model_copy(update={"balance": a.balance + 1})
    r = check(view, OPENING)
    assert any("USD not conserved" in v for v in r.violations)
    assert any("US1/USD: balance" in v for v in r.violations)


def test_second_decision_and_missing_leg_are_found() -> None:
    view = settle_all(req("u1"))
    view.events.append(Decision(settlement_id="u1", uetr="u1", decision="ABORT", reason="AB05", decided_at=T))
    view.events = [e for e in view.events
                   if not (isinstance(e, AccountEvent) and e.type == "CREDITED" and e.leg == "foreign")]
    r = check(view, OPENING)
    assert any("decided 2 times" in v for v in r.violations)
    assert any("not fully booked" in v for v in r.violations)


def test_undecided_settlement_and_missing_outcome_are_found() -> None:
    view = settle_all(req("u1"))
    view.requests.append(req("u9"))
    view.outcomes.clear()
    r = check(view, OPENING)
    assert any("u9 is undecided" in v for v in r.violations)
    assert any("u1: 0 final outcomes" in v for v in r.violations)
    assert r.undecided == 1


def test_overdraft_and_leftover_reservation_are_found() -> None:
    view = settle_all(req("u1"))
    a = view.accounts["FX/USD"]
    view.accounts["FX/USD"] = a.model_copy(update={"reserved": a.balance + 5})
    r = check(view, OPENING)
    assert any("available below zero" in v for v in r.violations)
    assert any("reservation" in v and "left" in v for v in r.violations)


def test_msgid_settled_twice_is_found() -> None:
    # two UETRs with one MsgId that both committed: what the CLAIM step exists to prevent
    view = settle_all(req("u1", "10.00", "1.00", msg_id="SAME"), req("u2", "10.00", "1.00", msg_id="SAME"))
    r = check(view, OPENING)
    assert any("MsgId SAME settled twice" in v for v in r.violations)
