"""Random interleavings, duplicates and redeliveries never break a ledger invariant.

An in-memory model of the topology: one FIFO per key (Kafka keeps order per key), the
coordinator and account processors consuming them in an order hypothesis chooses, any message
delivered again later (at-least-once redelivery), clock ticks at arbitrary moments, funding
arriving at arbitrary moments. After every step no available balance is negative and every
account's reserved total equals its RESERVED entries; at the end, the same check the CLI runs
(`router.settlement.check`) must find nothing wrong.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.settlement.check import LedgerView, check
from router.settlement.coordinator import Policy, SettlementState, Tick, handle
from router.settlement.dedup import ClaimState, claim
from router.settlement.ledger import AccountState, Entry, apply, entry_key, open_account
from router.settlement.model import (
    AccountEvent,
    Claim,
    Decision,
    Fund,
    SettlementOutcome,
    SettlementRequest,
    command_key,
)
from router.settlement.settings import AccountOpening

D = Decimal
PARTICIPANTS = ("CN1", "CN2")
OPENING = {
    "CN1/CNY": AccountOpening(currency="CNY", amount=D("100.00"), owner="CN1"),
    "CN2/CNY": AccountOpening(currency="CNY", amount=D("50.00"), owner="CN2"),
    "FX/CNY": AccountOpening(currency="CNY", amount=D("0.00"), owner="FX"),
    "FX/USD": AccountOpening(currency="USD", amount=D("30.00"), owner="FX"),
    "US1/USD": AccountOpening(currency="USD", amount=D("5.00"), owner="US1"),
}


class Model:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.queues: dict[str, deque[Any]] = {}
        self.settlements: dict[str, SettlementState] = {}
        self.accounts: dict[str, AccountState] = {}
        self.entries: dict[tuple[str, str, str, str], Entry] = {}
        self.claims: dict[str, ClaimState] = {}
        self.view = LedgerView()
        self.now = 0.0

    def send(self, key: str, msg: Any) -> None:
        self.queues.setdefault(key, deque()).append(msg)

    def busy(self) -> list[str]:
        return sorted(k for k, q in self.queues.items() if q)

    def submit(self, req: SettlementRequest) -> None:
        self.view.requests.append(req)
        self.send(f"s:{req.settlement_id}", req)

    def deliver(self, key: str, redeliver_later: bool) -> None:
        msg = self.queues[key].popleft()
        if redeliver_later:
            if isinstance(msg, SettlementRequest):
                self.view.requests.append(msg)  # a resent request is a real (duplicate) submission
            self.queues[key].append(msg)
        if key.startswith("s:"):
            self.coordinate(key[2:], msg)
        else:
            self.account(msg)

    def tick(self) -> None:
        for sid in list(self.settlements):
            self.coordinate(sid, Tick())

    def coordinate(self, sid: str, msg: Any) -> None:
        step = handle(self.settlements.get(sid), msg, self.now, self.policy)
        if step.state is not None:
            self.settlements[sid] = step.state
        for c in step.commands:
            self.send(f"a:{command_key(c)}", c)
        for d in step.decisions:
            self.view.events.append(d)
        self.view.outcomes.extend(step.outcomes)

    def account(self, cmd: Any) -> None:
        if isinstance(cmd, Claim):
            key = command_key(cmd)
            state, ev = claim(self.claims.get(key), cmd)
            self.claims[key] = state
            self.emit(ev)
            return
        acct = self.accounts.get(cmd.account) or open_account(
            cmd.account, OPENING.get(cmd.account), currency=cmd.account.split("/")[1], owner="X")
        applied = apply(acct, self.entries.get(entry_key(cmd)), cmd)
        self.accounts[cmd.account] = applied.account
        for e in applied.entries:
            self.entries[(e.account, e.settlement_id, e.leg, e.role)] = e
        for ev in applied.events:
            self.emit(ev)

    def emit(self, ev: AccountEvent) -> None:
        self.view.events.append(ev)
        if ev.type != "FUNDED":
            self.send(f"s:{ev.settlement_id}", ev)

    def assert_step_invariants(self) -> None:
        for a in self.accounts.values():
            assert a.available >= 0, a
            held = sum((e.amount for e in self.entries.values()
                        if e.account == a.account and e.status == "RESERVED"), D(0))
            assert a.reserved == held, (a, held)
            queued = {(q.settlement_id, q.leg) for q in a.queue}
            assert queued == {(e.settlement_id, e.leg) for e in self.entries.values()
                              if e.account == a.account and e.status == "QUEUED"}


amounts_cny = st.sampled_from(["10.00", "35.00", "60.00", "120.00"])
amounts_usd = st.sampled_from(["1.00", "4.00", "9.00", "25.00"])


@st.composite
def requests(draw: st.DrawFn) -> list[SettlementRequest]:
    n = draw(st.integers(1, 6))
    out = []
    for i in range(n):
        sender = draw(st.sampled_from(PARTICIPANTS))
        # a few requests reuse a MsgId under a new UETR
        msg_id = f"M{draw(st.integers(0, n + 2))}"
        sid = f"u{i}"
        out.append(SettlementRequest.model_validate({
            "settlement_id": sid, "uetr": sid, "sender": sender, "msg_id": msg_id, "legs": [
                {"leg": "cny", "debit_account": f"{sender}/CNY", "credit_account": "FX/CNY", "currency": "CNY",
                 "amount": draw(amounts_cny)},
                {"leg": "foreign", "debit_account": "FX/USD", "credit_account": "US1/USD", "currency": "USD",
                 "amount": draw(amounts_usd)},
            ]}))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reqs=requests(), wait=st.sampled_from([0.0, 3.0, 100.0]), data=st.data())
def test_any_interleaving_keeps_every_invariant(reqs: list[SettlementRequest], wait: float,
                                                data: st.DataObject) -> None:
    m = Model(Policy(pvp_deadline_s=20.0, liquidity_max_wait_s=wait, opening_balances=OPENING))
    pending = list(reqs)
    funded = 0
    for _ in range(data.draw(st.integers(0, 150), label="steps")):
        choice = data.draw(st.sampled_from(["submit", "deliver", "deliver", "deliver", "tick", "fund"]))
        if choice == "submit" and pending:
            m.submit(pending.pop(0))
        elif choice == "deliver" and m.busy():
            key = data.draw(st.sampled_from(m.busy()))
            m.deliver(key, redeliver_later=data.draw(st.booleans().map(lambda b: b and data.draw(st.booleans()))))
        elif choice == "tick":
            m.now += data.draw(st.sampled_from([0.5, 2.0, 7.0]))
            m.tick()
        elif choice == "fund" and funded < 2:
            funded += 1
            acct = data.draw(st.sampled_from(["CN1/CNY", "FX/USD"]))
            ccy = acct.split("/")[1]
            m.send(f"a:{acct}", Fund(account=acct, fund_id=f"f{funded}", currency=ccy, amount=D("50.00")))
        m.assert_step_invariants()
    for r in pending:
        m.submit(r)
    # quiesce: deliver everything in order, let time run out for whatever waits
    for _ in range(200):
        while m.busy():
            m.deliver(m.busy()[0], redeliver_later=False)
            m.assert_step_invariants()
        if all(s.phase in ("COMMITTED", "ABORTED") for s in m.settlements.values()):
            break
        m.now += 5.0
        m.tick()
    m.view.accounts = dict(m.accounts)
    report = check(m.view, OPENING)
    assert report.ok, report.violations
    decided = {e.settlement_id for e in m.view.events if isinstance(e, Decision)}
    assert decided == {r.settlement_id for r in reqs}
    finals = [o for o in m.view.outcomes if isinstance(o, SettlementOutcome) and o.final]
    assert sorted(o.settlement_id for o in finals) == sorted(decided)
