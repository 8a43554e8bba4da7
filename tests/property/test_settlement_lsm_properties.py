"""With the liquidity-saving mechanism and conditional holds (executed, released or expired)
running between any steps, every invariant still holds:
no available balance below zero after any step (only inside an LSM set), net debit caps kept,
money conserved, each settlement decided once with its full gross postings, and the check clean."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.settlement import lsm, pvp
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


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=50), st.booleans(), st.booleans())
def test_invariants_hold_with_lsm(steps: list[tuple[str, str, str, int]], capped: bool, rich: bool) -> None:
    # rich: A holds more than its cap, so the cap, not the balance, is what binds
    caps = {"A": D("150.00")} if capped else {}
    opening_a = "500.00" if rich else "50.00"
    ledger = Ledger({"A": opening_a, "B": "20.00", "C": "0.00"}, caps=caps)
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
            if a.owner in caps:  # held legs included: they become debits when executed
                assert a.net - a.reserved >= -caps[a.owner]
    ledger.offset()
    ledger.now += 100
    ledger.apply(pvp.expire(ledger.book, ledger.now, ledger.policy))
    report = ledger.report()
    assert report.ok, report.violations
    assert report.undecided == 0
    assert sum(a.balance for a in ledger.book.accounts.values()) == D(opening_a) + D("20.00")


queue = st.lists(st.tuples(st.sampled_from(BANKS), st.sampled_from(BANKS), st.integers(1, 9000)), min_size=1,
                 max_size=12)


@settings(max_examples=300, deadline=None)
@given(queue, st.lists(st.integers(0, 5000), min_size=3, max_size=3), st.integers(0, 11),
       st.one_of(st.none(), st.integers(0, 3000)))
def test_a_set_is_fundable_on_its_net_and_holds_its_pin(
        payments: list[tuple[str, str, int]], funds: list[int], pin: int, cap: int | None) -> None:
    """Whatever the search returns (with or without a pinned settlement, with a cap on A): a
    subset of the queue in queue order, every account funding the set's net, A's net debit within
    its headroom, and the pin in it, or nothing."""
    items = [(f"p{i}", pay(f"p{i}", frm, to, f"{n / 100:.2f}")) for i, (frm, to, n) in enumerate(payments)
             if frm != to]
    available = {f"{b}/CNY": D(v) / 100 for b, v in zip(BANKS, funds, strict=True)}
    headroom = None if cap is None else {"A/CNY": D(cap) / 100}
    pinned = items[pin % len(items)][0] if items else None
    for chosen in (lsm.offset_set(available, items, headroom), lsm.offset_set(available, items, headroom,
                                                                                pinned=pinned)):
        order = [sid for sid, _ in items]
        assert chosen == [sid for sid in order if sid in chosen]
        net = lsm.net_of([(sid, r) for sid, r in items if sid in chosen])
        assert all(available[a] + v >= 0 for a, v in net.items())
        if headroom is not None:
            assert -net.get("A/CNY", D(0)) <= headroom["A/CNY"]
    with_pin = lsm.offset_set(available, items, headroom, pinned=pinned)
    assert not with_pin or pinned in with_pin
