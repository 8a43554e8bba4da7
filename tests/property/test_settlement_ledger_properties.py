"""Any sequence of requests, resends, reused MsgIds, fundings, clock steps and failed
transactions keeps every ledger invariant: no balance below zero at any step, money conserved
per currency, each settlement decided once with both legs or neither, and the check the CLI
runs (``router.settlement.check``) finds nothing wrong once the queue has drained."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.settlement import pvp
from tests.unit.test_settlement_pvp import Ledger, req

D = Decimal
step = st.one_of(
    st.tuples(st.just("settle"), st.integers(0, 30), st.integers(1, 6000), st.integers(1, 900)),
    st.tuples(st.just("resend"), st.integers(0, 30), st.just(0), st.just(0)),
    st.tuples(st.just("fund"), st.integers(0, 3), st.integers(1, 5000), st.just(0)),
    st.tuples(st.just("tick"), st.integers(1, 8), st.just(0), st.just(0)),
    st.tuples(st.just("fail"), st.integers(0, 30), st.integers(1, 6000), st.integers(1, 900)),
)
FUNDED = ("CN1/CNY", "FX/USD", "FX/CNY", "US1/USD")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=60))
def test_invariants_hold_for_any_sequence(steps: list[tuple[str, int, int, int]]) -> None:
    ledger = Ledger()
    sent: dict[str, object] = {}
    for i, (kind, a, b, c) in enumerate(steps):
        if kind == "settle":
            r = req(f"s{i}", f"{b / 100:.2f}", f"{c / 100:.2f}", msg_id=f"M{a}")
            sent[r.settlement_id] = r
            ledger.settle(r)
        elif kind == "resend" and sent:
            ledger.settle(list(sent.values())[a % len(sent)])  # type: ignore[arg-type]
        elif kind == "fund":
            ledger.fund(FUNDED[a], f"{b / 100:.2f}", f"f{i}")
        elif kind == "tick":
            ledger.now += a
            ledger.apply(pvp.expire(ledger.book, ledger.now))
        elif kind == "fail":
            # A transaction that never commits: its changes are rolled back, nothing is sent.
            pvp.settle(ledger.book, req(f"x{i}", f"{b / 100:.2f}", f"{c / 100:.2f}"), ledger.now, pvp.Policy(
                pvp_deadline_s=60, liquidity_max_wait_s=10, owner_of=lambda s: s))
            ledger.book.rollback()
        assert all(acct.available >= 0 for acct in ledger.book.accounts.values())
    ledger.now += 100
    ledger.apply(pvp.expire(ledger.book, ledger.now))
    report = ledger.report()
    assert report.ok, report.violations
    assert report.undecided == 0
