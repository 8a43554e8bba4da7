"""With the liquidity-saving mechanism and conditional holds (executed, released or expired)
running between any steps, every invariant still holds:
no available balance below zero after any step (only inside an LSM set), net debit caps kept,
money conserved, each settlement decided once with its full gross postings, and the check clean."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.settlement import pvp
from router.settlement.model import Execute, Release
from tests.unit.test_settlement_lsm import BANKS, Ledger, pay

D = Decimal
step = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(BANKS), st.sampled_from(BANKS), st.integers(1, 20000)),
    st.tuples(st.just("offset"), st.just(""), st.just(""), st.just(0)),
    st.tuples(st.just("tick"), st.just(""), st.just(""), st.integers(1, 6)),
    st.tuples(st.just("hold"), st.sampled_from(BANKS), st.sampled_from(BANKS), st.integers(1, 20000)),
    st.tuples(st.just("execute"), st.just(""), st.just(""), st.integers(0, 49)),
    st.tuples(st.just("release"), st.just(""), st.just(""), st.integers(0, 49)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=50), st.booleans())
def test_invariants_hold_with_lsm(steps: list[tuple[str, str, str, int]], capped: bool) -> None:
    caps = {"A": D("150.00")} if capped else {}
    ledger = Ledger({"A": "50.00", "B": "20.00", "C": "0.00"}, caps=caps)
    for i, (kind, frm, to, n) in enumerate(steps):
        if kind == "pay" and frm != to:
            ledger.settle(pay(f"p{i}", frm, to, f"{n / 100:.2f}"))
        elif kind == "offset":
            ledger.offset()
        elif kind == "tick":
            ledger.now += n
            ledger.apply(pvp.expire(ledger.book, ledger.now, ledger.policy))
        elif kind == "hold" and frm != to:
            ledger.settle(pay(f"p{i}", frm, to, f"{n / 100:.2f}").model_copy(update={
                "condition_id": f"C{i}", "hold_until": datetime.fromtimestamp(ledger.now + 5, UTC)}))
        elif kind in ("execute", "release"):
            sid = f"p{n}"
            if kind == "execute":
                ledger.apply(pvp.execute(ledger.book, Execute(settlement_id=sid, uetr=sid, condition_id=f"C{n}",
                                                              event_id=f"E{i}"), ledger.now, ledger.policy))
            else:
                ledger.apply(pvp.release(ledger.book, Release(settlement_id=sid, uetr=sid, reason="CUST"),
                                         ledger.now, ledger.policy))
        for a in ledger.book.accounts.values():
            assert a.available >= 0
            if a.owner in caps:
                assert a.net >= -caps[a.owner]
    ledger.offset()
    ledger.now += 100
    ledger.apply(pvp.expire(ledger.book, ledger.now, ledger.policy))
    report = ledger.report()
    assert report.ok, report.violations
    assert report.undecided == 0
    assert sum(a.balance for a in ledger.book.accounts.values()) == D("70.00")
