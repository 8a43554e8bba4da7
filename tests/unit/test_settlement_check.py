"""The ledger check finds what it must from the topics alone: a changed posting (naming the
account), a booking twice, a half-booked settlement, money created, an undecided request."""

from __future__ import annotations

from decimal import Decimal

from router.settlement.book import LedgerAccount
from router.settlement.model import Booked, Posting
from tests.unit.test_settlement_pvp import Ledger, req

D = Decimal


def _busy_ledger() -> Ledger:
    ledger = Ledger()
    ledger.settle(req("s1", "10.00", "1.00"))
    ledger.settle(req("s2", "20.00", "2.00"))
    ledger.settle(req("s3", "30.00", "50.00"))  # queued
    ledger.fund("FX/USD", "30.00", "f1")  # settles s3
    return ledger


def test_a_clean_ledger_passes() -> None:
    report = _busy_ledger().report()
    assert report.ok, report.violations
    assert (report.settlements, report.commits, report.aborts, report.undecided) == (3, 3, 0, 0)


def test_a_changed_posting_is_found_and_names_its_account() -> None:
    ledger = _busy_ledger()
    i = next(i for i, j in enumerate(ledger.view.journal) if isinstance(j, Booked) and j.settlement_id == "s2")
    b = ledger.view.journal[i]
    assert isinstance(b, Booked)
    p = b.postings[3]
    forged = p.model_copy(update={"amount": p.amount + 1, "balance_after": p.balance_after + 1})
    ledger.view.journal[i] = b.model_copy(update={"postings": (*b.postings[:3], forged)})
    report = ledger.report()
    assert not report.ok
    assert any(v.startswith("US1/USD") for v in report.violations), report.violations


def test_a_settlement_booked_twice_is_found() -> None:
    ledger = _busy_ledger()
    dup = next(j for j in ledger.view.journal if isinstance(j, Booked) and j.settlement_id == "s1")
    ledger.view.journal.append(dup)
    assert any("decided 2 times" in v for v in ledger.report().violations)


def test_half_a_pvp_is_found() -> None:
    ledger = _busy_ledger()
    i = next(i for i, j in enumerate(ledger.view.journal) if isinstance(j, Booked) and j.settlement_id == "s1")
    b = ledger.view.journal[i]
    assert isinstance(b, Booked)
    ledger.view.journal[i] = b.model_copy(update={"postings": b.postings[:2]})
    assert any("leg foreign" in v for v in ledger.report().violations)


def test_money_created_in_the_state_is_found() -> None:
    ledger = _busy_ledger()
    ledger.view.accounts = dict(ledger.book.accounts)
    a = ledger.view.accounts["CN1/CNY"]
    ledger.view.accounts["CN1/CNY"] = LedgerAccount(account=a.account, owner=a.owner, currency=a.currency,
                                              balance=a.balance + 5)
    from router.settlement.check import check

    assert any("CN1/CNY: ledger state balance" in v for v in check(ledger.view).violations)


def test_an_unbalanced_booking_and_an_undecided_request_are_found() -> None:
    ledger = _busy_ledger()
    stray = Posting(account="US1/USD", owner="US1", currency="USD", direction="CRDT", amount=D("1.00"),
                    balance_after=D("34.00"), reserved_after=D(0))
    b = ledger.view.journal[-1]
    assert isinstance(b, Booked)
    ledger.view.journal[-1] = b.model_copy(update={"postings": (*b.postings, stray)})
    ledger.view.requests.append(req("never", "1.00", "1.00"))
    violations = ledger.report().violations
    assert any("does not balance in USD" in v for v in violations)
    assert any("never is undecided" in v for v in violations)
