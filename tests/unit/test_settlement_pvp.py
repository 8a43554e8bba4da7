"""The ledger shard's PvP booking: both legs or neither, the liquidity queue, duplicates, genesis,
funding, retention, and a transaction that fails leaving memory exactly as the changelog has it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from router.settlement import pvp
from router.settlement.book import Book, decode
from router.settlement.check import LedgerView, check
from router.settlement.model import Booked, Fund, Funded, Leg, Opened, SettlementRequest
from router.settlement.settings import AccountOpening

D = Decimal
OPENING = {
    "CN1/CNY": AccountOpening(currency="CNY", amount=D("100.00"), owner="CN1"),
    "FX/CNY": AccountOpening(currency="CNY", amount=D("0.00"), owner="FX"),
    "FX/USD": AccountOpening(currency="USD", amount=D("30.00"), owner="FX"),
    "US1/USD": AccountOpening(currency="USD", amount=D("0.00"), owner="US1"),
}
POLICY = pvp.Policy(pvp_deadline_s=60, liquidity_max_wait_s=10, owner_of=lambda a: a.split("/")[0])


def req(sid: str, cny: str, usd: str, *, sender: str = "CN1", msg_id: str | None = None) -> SettlementRequest:
    return SettlementRequest(settlement_id=sid, uetr=sid, sender=sender, msg_id=msg_id or f"M-{sid}", legs=(
        Leg(leg="cny", debit_account="CN1/CNY", credit_account="FX/CNY", currency="CNY", amount=D(cny)),
        Leg(leg="foreign", debit_account="FX/USD", credit_account="US1/USD", currency="USD", amount=D(usd))))


class Ledger:
    """The book with its journal and outcomes collected, as the stage would send them."""

    def __init__(self) -> None:
        self.book = Book()
        self.view = LedgerView()
        self.now = 1000.0
        self.apply(pvp.open_accounts(self.book, OPENING, self.now, POLICY.owner_of))

    def apply(self, fx: pvp.Effects) -> pvp.Effects:
        self.view.journal += fx.journal
        self.view.outcomes += fx.outcomes
        self.book.commit()
        return fx

    def settle(self, r: SettlementRequest) -> pvp.Effects:
        self.view.requests.append(r)
        return self.apply(pvp.settle(self.book, r, self.now, POLICY))

    def fund(self, account: str, amount: str, fund_id: str) -> pvp.Effects:
        return self.apply(pvp.fund(self.book, Fund(account=account, fund_id=fund_id, currency=account[-3:],
                                                   amount=D(amount)), self.now, POLICY))

    def balance(self, account: str) -> Decimal:
        return self.book.accounts[account].balance

    def report(self):  # type: ignore[no-untyped-def]
        self.view.accounts = dict(self.book.accounts)
        return check(self.view)


def test_genesis_puts_every_opening_on_the_journal_once() -> None:
    ledger = Ledger()
    opened = [j for j in ledger.view.journal if isinstance(j, Opened)]
    assert {o.account: o.amount for o in opened} == {a: o.amount for a, o in OPENING.items()}
    assert pvp.open_accounts(ledger.book, OPENING, ledger.now, POLICY.owner_of).journal == []
    assert ledger.report().ok


def test_commit_books_both_legs_in_one_record() -> None:
    ledger = Ledger()
    fx = ledger.settle(req("s1", "70.00", "10.00"))
    [booked] = [j for j in fx.journal if isinstance(j, Booked)]
    assert booked.decision == "COMMIT"
    assert [(p.account, p.direction, p.amount) for p in booked.postings] == [
        ("CN1/CNY", "DBIT", D("70.00")), ("FX/CNY", "CRDT", D("70.00")),
        ("FX/USD", "DBIT", D("10.00")), ("US1/USD", "CRDT", D("10.00"))]
    [out] = fx.outcomes
    assert (out.decision, out.status, out.final, out.legs_booked) == ("COMMIT", "ACSC", True, ("cny", "foreign"))
    assert (ledger.balance("CN1/CNY"), ledger.balance("FX/USD"), ledger.balance("US1/USD")) == (
        D("30.00"), D("20.00"), D("10.00"))
    assert ledger.report().ok


def test_one_short_leg_moves_neither_and_queues_then_settles_when_funded() -> None:
    ledger = Ledger()
    fx = ledger.settle(req("s1", "10.00", "31.00"))  # the CNY leg fits, the USD leg does not
    assert [o.decision for o in fx.outcomes] == ["PENDING"]
    assert ledger.balance("CN1/CNY") == D("100.00") and ledger.balance("FX/USD") == D("30.00")
    assert not ledger.report().ok  # undecided while queued
    fx = ledger.fund("FX/USD", "5.00", "f1")
    assert [o.decision for o in fx.outcomes] == ["COMMIT"]
    assert ledger.balance("FX/USD") == D("4.00") and ledger.balance("CN1/CNY") == D("90.00")
    report = ledger.report()
    assert report.ok, report.violations
    assert report.currencies["USD"] == {"opening": "30.00", "funded": "5.00", "balances": "35.00", "reserved": "0"}


def test_queue_is_fifo_with_bypass_and_expires_with_am04() -> None:
    ledger = Ledger()
    ledger.settle(req("big", "10.00", "40.00"))
    ledger.settle(req("small", "10.00", "30.00"))  # fits at once: the queue never blocks it
    assert ledger.book.receipt("small").status == "COMMIT"
    ledger.settle(req("late", "10.00", "1.00"))
    assert list(ledger.book.queue) == ["big", "late"]
    fx = ledger.fund("FX/USD", "2.00", "f1")  # enough for "late" only: "big" is passed over
    assert [o.settlement_id for o in fx.outcomes] == ["late"]
    ledger.now += 11
    fx = ledger.apply(pvp.expire(ledger.book, ledger.now))
    assert [(o.settlement_id, o.decision, o.reason) for o in fx.outcomes] == [("big", "ABORT", "AM04")]
    assert ledger.report().ok


def test_queue_serves_the_oldest_first_when_liquidity_fits_only_one() -> None:
    ledger = Ledger()  # FX/USD holds 30.00
    ledger.settle(req("first", "10.00", "40.00"))
    ledger.settle(req("second", "10.00", "40.00"))
    ledger.settle(req("third", "10.00", "40.00"))
    fx = ledger.fund("FX/USD", "15.00", "f1")  # 45.00: one of them, and it is the first in
    assert [o.settlement_id for o in fx.outcomes] == ["first"]
    fx = ledger.fund("FX/USD", "35.00", "f2")  # 40.00 again: the next in line
    assert [o.settlement_id for o in fx.outcomes] == ["second"]
    assert list(ledger.book.queue) == ["third"]


def test_nothing_waits_past_its_deadline_however_often_it_is_passed_over() -> None:
    ledger = Ledger()
    ledger.settle(req("big", "10.00", "500.00"))  # never fits
    short = req("short", "10.00", "500.00").model_copy(update={
        "deadline": datetime.fromtimestamp(ledger.now + 4, UTC)})  # its own deadline is before the queue's
    ledger.settle(short)
    decided: dict[str, tuple[float, str | None]] = {}
    for i in range(24):  # small payments keep passing them over, and every tick looks at the queue
        ledger.now += 0.5
        ledger.settle(req(f"small{i}", "1.00", "0.50"))
        for o in ledger.apply(pvp.expire(ledger.book, ledger.now)).outcomes:
            decided[o.settlement_id] = (ledger.now, o.reason)
    assert decided == {"short": (1004.0, "AM04"), "big": (1010.0, "AM04")}
    assert not ledger.book.queue and ledger.report().ok


def test_no_queue_aborts_at_once() -> None:
    ledger = Ledger()
    policy = pvp.Policy(pvp_deadline_s=60, liquidity_max_wait_s=0, owner_of=POLICY.owner_of)
    fx = pvp.settle(ledger.book, req("s1", "500.00", "1.00"), ledger.now, policy)
    assert [(o.decision, o.reason) for o in fx.outcomes] == [("ABORT", "AM04")]


def test_a_repeated_settlement_id_is_answered_never_booked_twice() -> None:
    ledger = Ledger()
    ledger.settle(req("s1", "10.00", "1.00"))
    fx = ledger.settle(req("s1", "10.00", "1.00"))
    assert fx.journal == [] and [(o.decision, o.final, o.duplicate_of) for o in fx.outcomes] == [
        ("DUPLICATE", False, "s1")]
    assert ledger.balance("CN1/CNY") == D("90.00")
    assert ledger.report().ok and ledger.report().duplicates_answered == 1


def test_a_reused_msgid_aborts_the_newcomer_with_am05() -> None:
    ledger = Ledger()
    ledger.settle(req("s1", "10.00", "1.00", msg_id="M1"))
    fx = ledger.settle(req("s2", "10.00", "1.00", msg_id="M1"))
    assert [(o.decision, o.reason, o.duplicate_of) for o in fx.outcomes] == [("ABORT", "AM05", "s1")]
    assert ledger.balance("CN1/CNY") == D("90.00")
    assert ledger.report().ok


def test_a_leg_in_the_wrong_currency_aborts_with_am03() -> None:
    ledger = Ledger()
    bad = SettlementRequest(settlement_id="s1", uetr="s1", sender="CN1", msg_id="M1", legs=(
        Leg(leg="cny", debit_account="CN1/CNY", credit_account="FX/USD", currency="CNY", amount=D("1.00")),))
    fx = ledger.settle(bad)
    assert [(o.decision, o.reason) for o in fx.outcomes] == [("ABORT", "AM03")]
    assert ledger.balance("CN1/CNY") == D("100.00")


def test_a_credit_to_an_unknown_account_opens_it_on_the_journal() -> None:
    ledger = Ledger()
    r = SettlementRequest(settlement_id="s1", uetr="s1", sender="CN1", msg_id="M1", legs=(
        Leg(leg="cny", debit_account="CN1/CNY", credit_account="NEW/CNY", currency="CNY", amount=D("1.00")),))
    fx = ledger.settle(r)
    assert [(j.account, j.amount) for j in fx.journal if isinstance(j, Opened)] == [("NEW/CNY", D("0"))]
    assert ledger.report().ok


def test_funding_is_booked_once_per_fund_id() -> None:
    ledger = Ledger()
    assert [type(j) for j in ledger.fund("US1/USD", "3.00", "f1").journal] == [Funded]
    assert ledger.fund("US1/USD", "3.00", "f1").journal == []
    assert ledger.balance("US1/USD") == D("3.00")
    refused = pvp.fund(ledger.book, Fund(account="US1/USD", fund_id="f2", currency="EUR", amount=D("1")),
                       ledger.now, POLICY)
    assert refused.refused and "AM03" in refused.refused


def test_rollback_restores_memory_and_changes_are_the_changelog() -> None:
    ledger = Ledger()
    ledger.settle(req("s1", "10.00", "1.00"))
    before = (dict(ledger.book.accounts), ledger.book.all_receipts(), ledger.book.all_claims())
    pvp.settle(ledger.book, req("s2", "10.00", "1.00"), ledger.now, POLICY)
    pvp.settle(ledger.book, req("s3", "10.00", "99.00"), ledger.now, POLICY)  # queued
    changes = ledger.book.changes()
    assert {k for _, k, _ in changes} == {"acct|CN1/CNY", "acct|FX/CNY", "acct|FX/USD", "acct|US1/USD",
                                          "sid|s2", "sid|s3"}
    ledger.book.rollback()
    assert (ledger.book.accounts, ledger.book.all_receipts(), ledger.book.all_claims()) == before
    assert ledger.book.queue == {} and ledger.book.waiting == {}
    # The changelog restores the same state: a restored book equals the live one.
    pvp.settle(ledger.book, req("s3", "10.00", "99.00"), ledger.now, POLICY)
    restored = Book()
    for _, key, value in ledger.book.changes():
        assert value is not None
        restored.load("settlement.ledger.state", key, value)
    assert restored.receipt("s3") == ledger.book.receipt("s3") and list(restored.queue) == ["s3"]
    assert restored.waiting["s3"].legs[1].amount == D("99.00")
    assert decode("acct|CN1/CNY", dict((k, v) for _, k, v in changes)["acct|CN1/CNY"] or b"").balance == D("80.00")


def test_sweep_forgets_decided_receipts_after_the_retention_only() -> None:
    ledger = Ledger()
    ledger.settle(req("s1", "10.00", "1.00"))
    ledger.settle(req("q", "10.00", "99.00"))  # queued: never swept
    assert pvp.sweep(ledger.book, ledger.now + 99, retention_s=100, budget=10) == 0
    assert pvp.sweep(ledger.book, ledger.now + 100, retention_s=100, budget=10) == 1
    assert ledger.book.receipt("s1") is None and ledger.book.receipt("q") is not None
    assert ledger.book.claim("CN1", "M-s1") is None
