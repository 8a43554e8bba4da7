"""The account processor as a pure state machine: reserve, queue, commit, release, credit, fund."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router.settlement.dedup import claim
from router.settlement.ledger import NOT_RESERVED, AccountState, Entry, apply, entry_key, open_account
from router.settlement.model import Claim, Commit, Credit, Fund, Release, Reserve
from router.settlement.settings import AccountOpening

D = Decimal


class Book:
    """One account plus its entries, driven command by command like the processor does."""

    def __init__(self, balance: str = "100.00", currency: str = "CNY") -> None:
        self.state = open_account("A/CNY", AccountOpening(currency=currency, amount=D(balance), owner="A"),
                                  currency=currency, owner="A")
        self.entries: dict[tuple[str, str, str, str], Entry] = {}
        self.events: list[tuple[str, str, str | None]] = []

    def do(self, cmd: Reserve | Commit | Release | Credit | Fund) -> list[str]:
        applied = apply(self.state, self.entries.get(entry_key(cmd)), cmd)
        self.state = applied.account
        for e in applied.entries:
            self.entries[(e.account, e.settlement_id, e.leg, e.role)] = e
        out = [f"{e.type}:{e.settlement_id}" for e in applied.events]
        self.events.extend((e.type, e.settlement_id, e.reason) for e in applied.events)
        return out


def res(sid: str, amount: str, ccy: str = "CNY") -> Reserve:
    return Reserve(account="A/CNY", settlement_id=sid, leg="cny", currency=ccy, amount=D(amount))


def test_reserve_then_commit_debits_once() -> None:
    b = Book()
    assert b.do(res("s1", "60.00")) == ["RESERVED:s1"]
    assert (b.state.balance, b.state.reserved, b.state.available) == (D("100.00"), D("60.00"), D("40.00"))
    assert b.do(Commit(account="A/CNY", settlement_id="s1", leg="cny")) == ["COMMITTED:s1"]
    assert (b.state.balance, b.state.reserved) == (D("40.00"), D("0.00"))
    # redelivered commands change nothing and say nothing
    assert b.do(Commit(account="A/CNY", settlement_id="s1", leg="cny")) == []
    assert b.do(res("s1", "60.00")) == []
    assert b.state.balance == D("40.00")


def test_commit_posting_carries_the_new_balance() -> None:
    b = Book()
    b.do(res("s1", "25.50"))
    applied = apply(b.state, b.entries[entry_key(Commit(account="A/CNY", settlement_id="s1", leg="cny"))],
                    Commit(account="A/CNY", settlement_id="s1", leg="cny"))
    p = applied.events[0].posting
    assert p is not None
    assert (p.direction, p.amount, p.balance_after, p.owner) == ("DBIT", D("25.50"), D("74.50"), "A")


def test_short_of_funds_queues_and_liquidity_releases_the_queue_in_order() -> None:
    b = Book("50.00")
    assert b.do(res("s1", "40.00")) == ["RESERVED:s1"]
    assert b.do(res("s2", "30.00")) == ["INSUFFICIENT:s2"]
    assert b.do(res("s3", "5.00")) == ["RESERVED:s3"]  # first fit: small payments are not blocked
    assert [q.settlement_id for q in b.state.queue] == ["s2"]
    out = b.do(Credit(account="A/CNY", settlement_id="in1", leg="foreign", currency="CNY", amount=D("30.00")))
    assert out == ["CREDITED:in1", "RESERVED:s2"]
    assert b.state.queue == ()
    assert (b.state.balance, b.state.reserved) == (D("80.00"), D("75.00"))


def test_release_of_a_reservation_frees_liquidity_for_the_queue() -> None:
    b = Book("50.00")
    b.do(res("s1", "50.00"))
    b.do(res("s2", "20.00"))
    out = b.do(Release(account="A/CNY", settlement_id="s1", leg="cny"))
    assert out == ["RELEASED:s1", "RESERVED:s2"]
    assert b.state.reserved == D("20.00")
    assert b.do(Release(account="A/CNY", settlement_id="s1", leg="cny")) == []


def test_release_of_a_queued_leg_leaves_the_queue() -> None:
    b = Book("10.00")
    b.do(res("s1", "20.00"))
    assert b.do(Release(account="A/CNY", settlement_id="s1", leg="cny")) == ["RELEASED:s1"]
    assert b.state.queue == ()
    # liquidity arriving later does not resurrect it
    assert b.do(Fund(account="A/CNY", fund_id="f1", currency="CNY", amount=D("100.00"))) == ["FUNDED:f1"]
    assert b.state.reserved == 0


def test_release_before_reserve_makes_the_late_reserve_a_no_op() -> None:
    b = Book()
    assert b.do(Release(account="A/CNY", settlement_id="s9", leg="cny")) == []
    assert b.do(res("s9", "10.00")) == []
    assert b.state.reserved == 0


def test_commit_without_reservation_is_refused_visibly() -> None:
    b = Book("5.00")
    b.do(res("s1", "10.00"))  # queued, not reserved
    assert b.do(Commit(account="A/CNY", settlement_id="s1", leg="cny")) == ["REJECTED:s1"]
    assert b.events[-1][2] == NOT_RESERVED
    assert b.state.balance == D("5.00")


def test_currency_mismatch_is_rejected_not_booked() -> None:
    b = Book()
    assert b.do(res("s1", "10.00", "USD")) == ["REJECTED:s1"]
    assert b.do(Credit(account="A/CNY", settlement_id="s2", leg="cny", currency="USD", amount=D("1.00"))) == [
        "REJECTED:s2"]
    assert (b.state.balance, b.state.reserved) == (D("100.00"), D("0"))


def test_credits_and_fundings_are_booked_once() -> None:
    b = Book("0.00")
    cr = Credit(account="A/CNY", settlement_id="s1", leg="cny", currency="CNY", amount=D("7.00"))
    assert b.do(cr) == ["CREDITED:s1"]
    assert b.do(cr) == []
    f = Fund(account="A/CNY", fund_id="f1", currency="CNY", amount=D("3.00"))
    assert b.do(f) == ["FUNDED:f1"]
    assert b.do(f) == []
    assert b.state.balance == D("10.00")


def test_unconfigured_account_opens_empty() -> None:
    a = open_account("NEW/USD", None, currency="USD", owner="NEW")
    assert a == AccountState(account="NEW/USD", owner="NEW", currency="USD", balance=D(0))


def test_fund_rejects_amounts_beyond_minor_units() -> None:
    with pytest.raises(ValueError, match="decimals"):
        Fund(account="A/JPY", fund_id="f", currency="JPY", amount=D("1.5"))


def test_msgid_claim_first_settlement_wins() -> None:
    s1, ev1 = claim(None, Claim(sender="BANK", msg_id="M1", settlement_id="u1"))
    assert ev1.type == "CLAIMED"
    same, ev_again = claim(s1, Claim(sender="BANK", msg_id="M1", settlement_id="u1"))
    assert ev_again.type == "CLAIMED" and same == s1
    kept, ev2 = claim(s1, Claim(sender="BANK", msg_id="M1", settlement_id="u2"))
    assert (ev2.type, ev2.duplicate_of, ev2.reason, kept.settlement_id) == ("CLAIM_DUPLICATE", "u1", "AM05", "u1")


def test_the_load_generator_settles_the_corridors_own_legs() -> None:
    from router.bench.settlement_load import corridor, legs_for, random_requests

    cny, eur = legs_for(debtor="CN1", creditor="DE1", fx_provider="FXB", cny_amount=D("10.00"),
                        foreign_currency="EUR", foreign_amount=D("1.30"))
    assert (cny.leg, cny.debit_account, cny.credit_account, cny.amount) == ("cny", "CN1/CNY", "FXB/CNY", D("10.00"))
    assert (eur.leg, eur.debit_account, eur.credit_account, eur.amount) == ("foreign", "FXB/EUR", "DE1/EUR", D("1.30"))
    c = corridor(participants=2)
    for r in random_requests(c, 20, seed=3):
        assert r.legs[0].currency == "CNY" and len(r.legs) == 2
        assert all(leg.debit_account in c.opening and leg.credit_account in c.opening for leg in r.legs)
