"""The corridor trusts its cache of decoded payment states instead of reading the store on every
event (issue 12). The trust must end whenever the store's value can change behind the stage's
back: a rolled-back transaction, a changelog record loaded (a takeover, a standby catching up)."""

from __future__ import annotations

from router.pipeline.corridor_stage import CorridorLogic
from router.streams.processor import Out
from router.streams.store import Store
from tests.support.records import FakeRecord
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, eur_quotes, outbound
from tests.unit.test_corridor_receipts import take

CLEAR = b'{"outcome": "clear"}'


def screened(logic: CorridorLogic, store: Store, uetr: str) -> list[Out]:
    record = FakeRecord(CLEAR, uetr.encode(), "screening.results")
    return logic.on_event(store, uetr, "screening.results", record)


def asks_settlement(outs: list[Out]) -> bool:
    return any(o.topic == "settlement.requests" for o in outs)


def started() -> tuple[CorridorLogic, Store, str]:
    """A payment taken in and committed: it waits for its screening verdict."""
    ports = FakePorts(quote_list=eur_quotes())
    store, logic = Store(0, "corridor.state"), CorridorLogic(ports, clock=lambda: NOW)
    logic.restored(store)
    payment = outbound()
    take(logic, store, payment, "cips")
    store.commit()
    return logic, store, payment.uetr


def test_a_redelivered_verdict_after_the_commit_changes_nothing() -> None:
    logic, store, uetr = started()
    assert asks_settlement(screened(logic, store, uetr))
    store.commit()
    assert not asks_settlement(screened(logic, store, uetr)), "the cached state is the committed one"


def test_after_a_rollback_the_verdict_is_applied_again() -> None:
    logic, store, uetr = started()
    assert asks_settlement(screened(logic, store, uetr))
    store.rollback()  # the transaction failed: its staged state is gone, the verdict comes again
    again = screened(logic, store, uetr)
    assert asks_settlement(again), "the state the rolled-back transaction staged was taken as stored"


def test_a_changelog_record_loaded_replaces_the_cached_state() -> None:
    logic, store, uetr = started()
    waiting = store.get(uetr)
    assert waiting is not None
    assert asks_settlement(screened(logic, store, uetr))
    store.commit()
    # Another owner's changelog, replayed here: the payment is back at its screening step.
    store.load("corridor.state", uetr, waiting)
    assert asks_settlement(screened(logic, store, uetr)), "a loaded value was hidden by the cache"
