"""Conditional (programmable) settlements on the ledger: reserve, then exactly one of execute,
expiry or release; the ledger check covers the holds at every step."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from router.outcome import CONDITION_EXPIRED, INSUFFICIENT_FUNDS
from router.settlement import pvp
from router.settlement.book import Book, decode
from router.settlement.model import Booked, Execute, Release, Reserved, SettlementRequest
from tests.unit.test_settlement_pvp import POLICY, Ledger, req

D = Decimal


def cond(sid: str, cny: str, usd: str, hold_until: float, condition: str = "C1") -> SettlementRequest:
    return req(sid, cny, usd).model_copy(update={
        "condition_id": condition, "hold_until": datetime.fromtimestamp(hold_until, UTC)})


def execute(ledger: Ledger, sid: str, condition: str = "C1", event: str = "E1") -> pvp.Effects:
    return ledger.apply(pvp.execute(ledger.book, Execute(settlement_id=sid, uetr=sid, condition_id=condition,
                                                         event_id=event), ledger.now, POLICY))


def decisions(ledger: Ledger, sid: str) -> list[str]:
    return [j.decision for j in ledger.view.journal if isinstance(j, Booked) and j.settlement_id == sid]


def test_reserve_holds_both_legs_and_answers_pending() -> None:
    ledger = Ledger()
    fx = ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 100))
    [res] = [j for j in fx.journal if isinstance(j, Reserved)]
    assert [(h.account, h.amount, h.reserved_after) for h in res.holds] == [
        ("CN1/CNY", D("70.00"), D("70.00")), ("FX/USD", D("10.00"), D("10.00"))]
    [out] = fx.outcomes
    assert (out.decision, out.status, out.final) == ("RESERVED", "PDNG", False)
    assert ledger.balance("CN1/CNY") == D("100.00") and ledger.book.accounts["CN1/CNY"].available == D("30.00")
    # Reserved funds are not available to others: this one must queue.
    assert ledger.settle(req("s2", "40.00", "1.00")).outcomes[0].decision == "PENDING"
    report = ledger.report()
    # The held one is not undecided; the queued one is, until the queue decides it.
    assert report.violations == ["settlement s2 is undecided"]
    assert (report.held, report.undecided) == (1, 1)


def test_execute_books_the_reserved_legs() -> None:
    ledger = Ledger()
    ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 100))
    fx = execute(ledger, "c1")
    [booked] = [j for j in fx.journal if isinstance(j, Booked)]
    assert (booked.decision, booked.condition_event) == ("COMMIT", "E1")
    assert fx.outcomes[0].status == "ACSC"
    a = ledger.book.accounts["CN1/CNY"]
    assert (a.balance, a.reserved) == (D("30.00"), D("0.00"))
    assert ledger.balance("US1/USD") == D("10.00")
    # A second event for the same settlement finds nothing held: refused, nothing moves.
    again = execute(ledger, "c1", event="E2")
    assert again.refused and not again.journal and not again.outcomes
    assert ledger.report().ok


def test_expiry_releases_the_holds_and_rejects_tm01() -> None:
    ledger = Ledger()
    ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 5))
    ledger.settle(req("s2", "40.00", "1.00"))  # queued behind the hold
    ledger.now += 5
    fx = ledger.apply(pvp.expire(ledger.book, ledger.now, POLICY))
    [abort] = [j for j in fx.journal if isinstance(j, Booked) and j.settlement_id == "c1"]
    assert (abort.decision, abort.reason) == ("ABORT", CONDITION_EXPIRED)
    assert [(h.account, h.amount, h.reserved_after) for h in abort.released] == [
        ("CN1/CNY", D("70.00"), D("0.00")), ("FX/USD", D("10.00"), D("0.00"))]
    # The released funds went straight to the queue.
    assert decisions(ledger, "s2") == ["COMMIT"]
    assert ledger.report().ok


def test_cancel_releases_with_the_cancellation_reason() -> None:
    ledger = Ledger()
    ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 100))
    fx = ledger.apply(pvp.release(ledger.book, Release(settlement_id="c1", uetr="c1", reason="CUST"), ledger.now,
                                  POLICY))
    assert fx.outcomes[0].reason == "CUST" and fx.outcomes[0].status == "RJCT"
    assert ledger.book.accounts["CN1/CNY"].reserved == D("0.00")
    assert not execute(ledger, "c1").outcomes  # too late: the release won
    assert decisions(ledger, "c1") == ["ABORT"]
    assert ledger.report().ok


def test_execute_racing_expiry_exactly_one_wins() -> None:
    # The event is valid at the corridor but reaches the ledger after the hold: expiry wins, once.
    ledger = Ledger()
    ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 5))
    ledger.now += 5
    fx = execute(ledger, "c1")
    assert fx.refused and "expired" in fx.refused
    assert ledger.apply(pvp.expire(ledger.book, ledger.now, POLICY)).journal == []
    assert decisions(ledger, "c1") == ["ABORT"]
    # One tick earlier the event wins, and the later timer finds nothing.
    other = Ledger()
    other.settle(cond("c1", "70.00", "10.00", other.now + 5))
    other.now += 4.999
    assert [j.decision for j in execute(other, "c1").journal if isinstance(j, Booked)] == ["COMMIT"]
    other.now += 1
    assert other.apply(pvp.expire(other.book, other.now, POLICY)).journal == []
    assert ledger.report().ok and other.report().ok


def test_unfundable_condition_waits_for_liquidity_then_reserves() -> None:
    ledger = Ledger()
    ledger.settle(cond("c1", "170.00", "10.00", ledger.now + 100))
    assert ledger.book.queue
    fx = ledger.fund("CN1/CNY", "100.00", "f1")
    assert [type(j).__name__ for j in fx.journal] == ["Funded", "Reserved"]
    assert ledger.report().ok


def test_queued_condition_past_its_hold_is_rejected_tm01_not_am04() -> None:
    ledger = Ledger()
    ledger.settle(cond("c1", "170.00", "10.00", ledger.now + 3))
    ledger.now += 3
    fx = ledger.apply(pvp.expire(ledger.book, ledger.now, POLICY))
    assert [o.reason for o in fx.outcomes] == [CONDITION_EXPIRED]
    ledger.settle(req("s9", "170.00", "1.00"))
    ledger.now += 10
    assert [o.reason for o in ledger.apply(pvp.expire(ledger.book, ledger.now, POLICY)).outcomes] == [
        INSUFFICIENT_FUNDS]


def test_held_reservations_survive_a_restore_from_the_changelog() -> None:
    ledger = Ledger()
    ledger.book.commit()
    ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 100))
    # Replay everything the book ever wrote (changes are taken before commit in the stage).
    book = ledger.book
    restored = Book()
    for key, value in [(k, v) for k, v in _snapshot(book)]:
        restored.load("settlement.ledger.state", key, value)
    assert "c1" in restored.held and restored.accounts["CN1/CNY"].reserved == D("70.00")
    fx = pvp.execute(restored, Execute(settlement_id="c1", uetr="c1", condition_id="C1", event_id="E1"),
                     ledger.now, POLICY)
    assert [j.decision for j in fx.journal if isinstance(j, Booked)] == ["COMMIT"]


def test_execute_for_another_condition_is_refused() -> None:
    ledger = Ledger()
    ledger.settle(cond("c1", "70.00", "10.00", ledger.now + 100))
    fx = execute(ledger, "c1", condition="OTHER")
    assert fx.refused and not fx.journal
    assert ledger.book.receipt("c1").status == "RESERVED"


def _snapshot(book: Book) -> list[tuple[str, bytes]]:
    from router.settlement.book import ACCT, SID, encode

    items: list[tuple[str, bytes]] = [(ACCT + k, encode(a)) for k, a in book.accounts.items()]
    items += [(SID + k, encode(r)) for k, r in book.all_receipts().items()]
    for key, raw in items:
        decode(key, raw)
    return items
