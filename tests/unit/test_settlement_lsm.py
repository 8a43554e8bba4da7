"""The liquidity-saving mechanism: gridlocked queues settle on their net, gross on the ledger."""

from __future__ import annotations

from decimal import Decimal

from router.settlement import lsm, pvp
from router.settlement.book import Book
from router.settlement.check import LedgerView, check
from router.settlement.model import Booked, Leg, SettlementRequest
from router.settlement.settings import AccountOpening

D = Decimal
BANKS = ("A", "B", "C")


def pay(sid: str, frm: str, to: str, amount: str) -> SettlementRequest:
    return SettlementRequest(settlement_id=sid, uetr=sid, sender=frm, msg_id=f"M-{sid}", legs=(
        Leg(leg="cny", debit_account=f"{frm}/CNY", credit_account=f"{to}/CNY", currency="CNY", amount=D(amount)),))


class Ledger:
    def __init__(self, balances: dict[str, str], caps: dict[str, Decimal] | None = None) -> None:
        self.book, self.view, self.now = Book(), LedgerView(), 1000.0
        self.policy = pvp.Policy(pvp_deadline_s=60, liquidity_max_wait_s=10, owner_of=lambda a: a.split("/")[0],
                                 net_debit_caps=caps or {})
        openings = {f"{b}/CNY": AccountOpening(currency="CNY", amount=D(v), owner=b) for b, v in balances.items()}
        self.apply(pvp.open_accounts(self.book, openings, self.now, self.policy.owner_of))
        self.runs: list[pvp.OffsetRun] = []

    def apply(self, fx: pvp.Effects) -> pvp.Effects:
        self.book.commit()
        self.view.journal += fx.journal
        self.view.outcomes += fx.outcomes
        return fx

    def settle(self, r: SettlementRequest) -> pvp.Effects:
        self.view.requests.append(r)
        return self.apply(pvp.settle(self.book, r, self.now, self.policy))

    def offset(self) -> pvp.Effects:
        return self.apply(pvp.offset(self.book, self.now, self.policy, self.runs))

    def decided(self) -> dict[str, str]:
        return {j.settlement_id: j.decision for j in self.view.journal if isinstance(j, Booked)}

    def report(self):  # type: ignore[no-untyped-def]
        self.view.accounts = dict(self.book.accounts)
        return check(self.view)


def test_bilateral_gridlock_settles_gross_on_its_net() -> None:
    ledger = Ledger({"A": "10.00", "B": "10.00"})
    ledger.settle(pay("p1", "A", "B", "100.00"))
    ledger.settle(pay("p2", "B", "A", "95.00"))
    assert ledger.decided() == {}  # neither fits gross: gridlock
    fx = ledger.offset()
    assert ledger.decided() == {"p1": "COMMIT", "p2": "COMMIT"}
    booked = [j for j in fx.journal if isinstance(j, Booked)]
    assert [len(b.postings) for b in booked] == [2, 2] and booked[-1].lsm_last and not booked[0].lsm_last
    assert [(r.kind, r.settlements) for r in ledger.runs] == [("bilateral", 2)]
    assert (ledger.book.accounts["A/CNY"].balance, ledger.book.accounts["B/CNY"].balance) == (D("5.00"), D("15.00"))
    assert ledger.report().ok, ledger.report().violations


def test_multilateral_ring_settles_when_no_pair_offsets() -> None:
    ledger = Ledger({"A": "5.00", "B": "5.00", "C": "5.00"})
    for sid, frm, to in (("p1", "A", "B"), ("p2", "B", "C"), ("p3", "C", "A")):
        ledger.settle(pay(sid, frm, to, "50.00"))
    ledger.offset()
    assert ledger.decided() == {"p1": "COMMIT", "p2": "COMMIT", "p3": "COMMIT"}
    assert [(r.kind, r.settlements) for r in ledger.runs] == [("multilateral", 3)]
    assert ledger.report().ok


def test_newest_is_dropped_first_so_the_queue_stays_fifo() -> None:
    ledger = Ledger({"A": "0.00", "B": "0.00"})
    ledger.settle(pay("old", "A", "B", "40.00"))
    ledger.settle(pay("back", "B", "A", "40.00"))
    ledger.settle(pay("new", "A", "B", "40.00"))
    ledger.offset()
    assert ledger.decided() == {"old": "COMMIT", "back": "COMMIT"}
    assert "new" in ledger.book.queue
    assert ledger.report().violations == ["settlement new is undecided"]


def test_seeded_search_finds_the_set_one_pass_from_the_whole_queue_misses() -> None:
    # From all three: A is short, so p3 then p2 go (newest first); that leaves p1, which B cannot
    # pay alone: nothing. Around p3, p1 and p3 net to zero for both.
    items = [("p1", pay("p1", "B", "A", "30.00")), ("p2", pay("p2", "A", "B", "40.00")),
             ("p3", pay("p3", "A", "B", "30.00"))]
    avail = {"A/CNY": D("0.00"), "B/CNY": D("10.00")}
    assert lsm.offset_set(avail, items) == []
    assert lsm.offset_set(avail, items, pinned="p1") == []  # the oldest is tried first: no set around it
    assert lsm.offset_set(avail, items, pinned="p3") == ["p1", "p3"]
    ledger = Ledger({"A": "0.00", "B": "10.00"})
    for _, r in items:
        ledger.settle(r)
    ledger.offset()
    assert ledger.decided() == {"p1": "COMMIT", "p3": "COMMIT"} and list(ledger.book.queue) == ["p2"]
    assert ledger.report().violations == ["settlement p2 is undecided"]  # booked gross, funded on the net


def test_net_debit_cap_is_enforced_gross_and_in_lsm() -> None:
    ledger = Ledger({"A": "1000.00", "B": "0.00"}, caps={"A": D("100.00")})
    ledger.settle(pay("p1", "A", "B", "80.00"))
    ledger.settle(pay("p2", "A", "B", "30.00"))  # over A's cap: waits though A has the funds
    assert ledger.decided() == {"p1": "COMMIT"} and "p2" in ledger.book.queue
    ledger.settle(pay("p3", "B", "A", "10.00"))  # brings A's net back within the cap
    assert ledger.decided()["p3"] == "COMMIT" and ledger.decided()["p2"] == "COMMIT"
    assert ledger.book.accounts["A/CNY"].net == D("-100.00")
    assert ledger.report().ok


def test_conditional_holds_count_against_the_cap_before_they_execute() -> None:
    from datetime import UTC, datetime

    from router.settlement.model import Execute

    ledger = Ledger({"A": "1000.00", "B": "0.00"}, caps={"A": D("100.00")})
    hold = datetime.fromtimestamp(ledger.now + 60, UTC)
    ledger.settle(pay("c1", "A", "B", "80.00").model_copy(update={"condition_id": "K1", "hold_until": hold}))
    assert ledger.book.receipt("c1").status == "RESERVED"
    ledger.settle(pay("p1", "A", "B", "30.00"))  # with c1's 80.00 to come, A's net would reach -110.00
    assert "p1" in ledger.book.queue
    ledger.settle(pay("p2", "B", "A", "5.00"))  # B has nothing yet: queued
    ledger.offset()  # nor may the LSM take A past its cap: p1 with p2 would end at -105.00
    assert set(ledger.book.queue) == {"p1", "p2"}
    ledger.apply(pvp.execute(ledger.book, Execute(settlement_id="c1", uetr="c1", condition_id="K1", event_id="E1"),
                             ledger.now, ledger.policy))  # credits B, so p2 goes: A's net is -75.00
    assert ledger.decided() == {"c1": "COMMIT", "p2": "COMMIT"} and list(ledger.book.queue) == ["p1"]
    assert ledger.book.accounts["A/CNY"].net == D("-75.00")  # p1 would take it to -105.00: it waits
    assert ledger.report().violations == ["settlement p1 is undecided"]


def test_offset_set_respects_headroom() -> None:
    items = [("p1", pay("p1", "A", "B", "100.00")), ("p2", pay("p2", "B", "A", "40.00"))]
    avail = {"A/CNY": D("100.00"), "B/CNY": D("0.00")}
    assert lsm.offset_set(avail, items) == ["p1", "p2"]
    assert lsm.offset_set(avail, items, {"A/CNY": D("50.00")}) == []


def test_operator_cap_change_is_journaled_enforced_and_restored() -> None:
    from router.settlement.book import CAP, encode
    from router.settlement.model import CapSet, SetCap

    ledger = Ledger({"A": "1000.00", "B": "0.00"})
    ledger.apply(pvp.set_cap(ledger.book, SetCap(command_id="k1", participant="A", amount=D("50.00"), by="ops"),
                             ledger.now, ledger.policy))
    ledger.settle(pay("p1", "A", "B", "80.00"))
    assert "p1" in ledger.book.queue  # over the operator's cap
    again = pvp.set_cap(ledger.book, SetCap(command_id="k1", participant="A", amount=D("50.00"), by="ops"),
                        ledger.now, ledger.policy)
    assert again.journal == []  # the same command twice changes nothing
    fx = ledger.apply(pvp.set_cap(ledger.book, SetCap(command_id="k2", participant="A", amount=D("100.00"),
                                                      by="ops"), ledger.now, ledger.policy))
    assert [type(j).__name__ for j in fx.journal] == ["CapSet", "Booked"]  # raised: the queue moves
    assert [(j.by, j.amount) for j in ledger.view.journal if isinstance(j, CapSet)] == [
        ("ops", D("50.00")), ("ops", D("100.00"))]
    restored = Book()
    restored.load("settlement.ledger.state", CAP + "A", encode(ledger.book.caps["A"]))
    assert pvp.net_debit_cap(restored, ledger.policy, "A") == D("100.00")
    assert ledger.report().ok
