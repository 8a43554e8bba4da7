"""The corridor's camt.054 notifications (router.corridor.outbound.notifications), the one code
that tells account owners what a settlement moved: one per posting, in booking order, to the
owner on its own side; none for an outcome without postings (abort, duplicate, pending)."""

from __future__ import annotations

from decimal import Decimal

from router.corridor.outbound import notifications
from router.iso20022.model import Notification
from router.settlement.model import Posting, SettlementOutcome
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, outbound, parsed

D = Decimal


def posting(account: str, direction: str, amount: str, after: str) -> Posting:
    return Posting(account=account, owner=account.split("/")[0], currency=account.split("/")[1],
                   direction=direction, amount=D(amount), balance_after=D(after), reserved_after=D(0))


def outcome(decision: str, postings: tuple[Posting, ...]) -> SettlementOutcome:
    p = outbound()
    return SettlementOutcome(settlement_id=p.uetr, uetr=p.uetr, sender="ICBKCNBJ", msg_id="M1", decision=decision,
                             status="ACSC" if decision == "COMMIT" else "RJCT", final=True,
                             reason=None if decision == "COMMIT" else "AM04", postings=postings, at=NOW)


def test_a_committed_settlement_notifies_every_moved_account_on_its_owners_side() -> None:
    ports = FakePorts()
    booked = (posting("ICBKCNBJ/CNY", "DBIT", "7740.00", "930.00"), posting("BKCHCNBJ/CNY", "CRDT", "7740.00", "70.00"),
              posting("BKCHCNBJ/EUR", "DBIT", "1000.00", "990.00"), posting("NRDBDEFF/EUR", "CRDT", "1000.00", "10.00"))
    sends = notifications(ports, outbound(), outcome("COMMIT", booked), NOW)
    assert [s.topic for s in sends] == ["cips.out", "cips.out", "cips.out", "corr.out"]
    # a CIPS participant is addressed by its CIPS id, a correspondent by its BIC
    icbc, boc = (ports.directory.by_bic(b) for b in ("ICBKCNBJ", "BKCHCNBJ"))
    assert icbc is not None and boc is not None and icbc.cips_id and boc.cips_id
    assert [dict(s.headers)["receiver-bic"].decode() for s in sends] == [
        icbc.cips_id, boc.cips_id, boc.cips_id, "NRDBDEFF"]
    read = [parsed(s) for s in sends]
    assert all(isinstance(n, Notification) for n in read)
    assert [(n.account.id, n.credit_debit, n.amount, n.currency) for n in read if isinstance(n, Notification)] == [
        ("ICBKCNBJ/CNY", "DBIT", D("7740.00"), "CNY"), ("BKCHCNBJ/CNY", "CRDT", D("7740.00"), "CNY"),
        ("BKCHCNBJ/EUR", "DBIT", D("1000.00"), "EUR"), ("NRDBDEFF/EUR", "CRDT", D("1000.00"), "EUR")]
    # a replayed outcome sends the same message ids: receivers can drop the duplicates
    again = notifications(ports, outbound(), outcome("COMMIT", booked), NOW)
    assert [s.value for s in again] == [s.value for s in sends]


def test_an_aborted_settlement_moves_nothing_and_notifies_no_one() -> None:
    assert notifications(FakePorts(), outbound(), outcome("ABORT", ()), NOW) == []
