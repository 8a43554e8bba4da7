"""The corridor's camt.054 notifications (router.corridor.outbound): a committed settlement's
postings become bookings, in booking order; bookings become one camt.054 per account, its entries
in booking order, to the owner on its own side; an outcome without postings books nothing. The
stage gathers bookings for ``corridor.notification_interval_s`` (tests/unit/test_corridor_notices.py)."""

from __future__ import annotations

from decimal import Decimal

from router.corridor.outbound import MAX_ENTRIES, Booking, bookings, notifications
from router.iso20022.model import Notification
from router.settlement.model import Posting, SettlementOutcome
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, outbound, parsed

D = Decimal


def posting(account: str, direction: str, amount: str, after: str) -> Posting:
    return Posting(account=account, owner=account.split("/")[0], currency=account.split("/")[1],
                   direction=direction, amount=D(amount), balance_after=D(after), reserved_after=D(0))


def outcome(decision: str, postings: tuple[Posting, ...], sid: str | None = None) -> SettlementOutcome:
    p = outbound()
    return SettlementOutcome(settlement_id=sid or p.uetr, uetr=p.uetr, sender="ICBKCNBJ", msg_id="M1",
                             decision=decision, status="ACSC" if decision == "COMMIT" else "RJCT", final=True,
                             reason=None if decision == "COMMIT" else "AM04", postings=postings, at=NOW)


BOOKED = (posting("ICBKCNBJ/CNY", "DBIT", "7740.00", "930.00"), posting("BKCHCNBJ/CNY", "CRDT", "7740.00", "70.00"),
          posting("BKCHCNBJ/EUR", "DBIT", "1000.00", "990.00"), posting("NRDBDEFF/EUR", "CRDT", "1000.00", "10.00"))


def test_a_committed_settlement_notifies_every_moved_account_on_its_owners_side() -> None:
    ports = FakePorts()
    sends = notifications(ports, bookings(outbound(), outcome("COMMIT", BOOKED), NOW), NOW)
    assert [s.topic for s in sends] == ["cips.out", "cips.out", "cips.out", "corr.out"]
    # a CIPS participant is addressed by its CIPS id, a correspondent by its BIC
    icbc, boc = (ports.directory.by_bic(b) for b in ("ICBKCNBJ", "BKCHCNBJ"))
    assert icbc is not None and boc is not None and icbc.cips_id and boc.cips_id
    assert [dict(s.headers)["receiver-bic"].decode() for s in sends] == [
        icbc.cips_id, boc.cips_id, boc.cips_id, "NRDBDEFF"]
    read = [parsed(s) for s in sends]
    assert all(isinstance(n, Notification) for n in read)
    assert [(n.account.id, e.credit_debit, e.amount, e.currency, e.uetr)
            for n in read if isinstance(n, Notification) for e in n.entries] == [
        ("ICBKCNBJ/CNY", "DBIT", D("7740.00"), "CNY", outbound().uetr),
        ("BKCHCNBJ/CNY", "CRDT", D("7740.00"), "CNY", outbound().uetr),
        ("BKCHCNBJ/EUR", "DBIT", D("1000.00"), "EUR", outbound().uetr),
        ("NRDBDEFF/EUR", "CRDT", D("1000.00"), "EUR", outbound().uetr)]
    # a replayed outcome sends the same message ids and entry references: receivers can drop the duplicates
    again = notifications(ports, bookings(outbound(), outcome("COMMIT", BOOKED), NOW), NOW)
    assert [s.value for s in again] == [s.value for s in sends]


def test_postings_of_several_settlements_on_one_account_are_entries_of_one_notification() -> None:
    ports = FakePorts()
    first = bookings(outbound(), outcome("COMMIT", BOOKED, "S1"), NOW)
    second = bookings(outbound(), outcome("COMMIT", BOOKED[2:], "S2"), NOW)
    sends = notifications(ports, (*first, *second), NOW)
    read = {n.account.id: n for n in map(parsed, sends) if isinstance(n, Notification)}
    assert len(sends) == len(read) == 4
    eur = read["BKCHCNBJ/EUR"]
    assert [(e.credit_debit, e.amount) for e in eur.entries] == [("DBIT", D("1000.00")), ("DBIT", D("1000.00"))]
    refs = [e.entry_ref for n in read.values() for e in n.entries]
    assert len(refs) == len(set(refs)) == 6 and all(r and len(r) <= 35 for r in refs)
    # the same entries give the same id, other entries another
    alone = {n.account.id: n.msg_id for n in map(parsed, notifications(ports, first, NOW))
             if isinstance(n, Notification)}
    assert [alone[a] == read[a].msg_id for a in alone] == [True, True, False, False]


def test_an_account_with_more_entries_than_a_message_holds_gets_several() -> None:
    one = bookings(outbound(), outcome("COMMIT", BOOKED[:1]), NOW)[0]
    many = [Booking(**{**{f: getattr(one, f) for f in one.__struct_fields__}, "ref": f"REF{i}"})
            for i in range(MAX_ENTRIES + 3)]
    sends = notifications(FakePorts(), many, NOW)
    read = [parsed(s) for s in sends]
    assert [len(n.entries) for n in read if isinstance(n, Notification)] == [MAX_ENTRIES, 3]


def test_an_aborted_settlement_moves_nothing_and_notifies_no_one() -> None:
    assert bookings(outbound(), outcome("ABORT", ()), NOW) == ()
    assert notifications(FakePorts(), (), NOW) == []
