"""Payments at rest shrink to receipts after the retention: the corridor's state stays bounded,
duplicates are still answered as duplicates, late events are refused with a reason."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from router.corridor.outbound import original_ref
from router.corridor.receipts import RECEIPT_MARK, Receipt
from router.corridor.state import PaymentState, Phase, encode
from router.dlq import header_dict
from router.iso20022.examples import cips_pacs008
from router.iso20022.model import Payment, Return, Side
from router.pipeline.corridor_stage import CorridorLogic
from router.pipeline.intake import Accepted
from router.streams.processor import Out
from router.streams.store import Store
from tests.support.records import FakeRecord
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, eur_quotes, outbound, receive, settle

RETENTION = timedelta(days=30)  # the default of settings.corridor.retention_days


def take(logic: CorridorLogic, store: Store, message: Payment | Return, source: Side) -> list[Out]:
    """``message`` as intake hands it to the corridor after taking it in from ``source``."""
    topic = f"{source}.in"
    key = message_key(message)
    return logic.on_event(store, key.decode(), topic, FakeRecord(b"<xml/>", key, topic),
                          Accepted(message, source, key.decode()))


def message_key(message: Payment | Return) -> bytes:
    return (message.uetr if isinstance(message, Payment) else message.original.uetr or "").encode()


def delivered() -> tuple[PaymentState, FakePorts]:
    ports = FakePorts(quote_list=eur_quotes())
    done = settle(receive(outbound(), "cips", ports), ports)
    assert done.state is not None and done.state.phase is Phase.DELIVERED
    return done.state, ports


def stored(*states: PaymentState) -> Store:
    store = Store(0)
    for s in states:
        store.put(s.uetr, encode(s)[0])
    store.commit()
    return store


def test_a_payment_at_rest_past_the_retention_shrinks_to_a_receipt() -> None:
    state, ports = delivered()
    in_flight = receive(cips_pacs008(uetr="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"), "cips", ports).state
    assert in_flight is not None and in_flight.phase is Phase.SETTLING
    store = stored(state, in_flight)
    clock = {"now": NOW + RETENTION - timedelta(minutes=1)}
    logic = CorridorLogic(ports, clock=lambda: clock["now"])
    logic.restored(store)
    assert logic.tick(store) == [] and store.get(state.uetr) == encode(state)[0]

    clock["now"] = NOW + RETENTION + timedelta(minutes=1)
    logic.next_sweep.clear()
    logic.tick(store)
    store.commit()
    raw = store.get(state.uetr)
    assert raw is not None and raw.startswith(RECEIPT_MARK)
    r = Receipt.model_validate_json(raw)
    assert (r.uetr, r.phase, r.msg_id, r.source) == (state.uetr, Phase.DELIVERED, state.payment.msg_id, "cips")
    assert len(raw) * 5 < len(encode(state)[0]), "a receipt is a fraction of the full state"
    assert store.get(in_flight.uetr) == encode(in_flight)[0], "payments in flight are kept"
    logic.restored(store)  # a task restored from a changelog holding receipts: a later sweep passes it by
    logic.next_sweep.clear()
    logic.tick(store)
    assert not store.staged, "a receipt is not archived again"


def test_a_receipt_still_answers_duplicates_and_refuses_late_events() -> None:
    state, ports = delivered()
    store = stored(state)
    clock = {"now": NOW + RETENTION + timedelta(days=1)}
    logic = CorridorLogic(ports, clock=lambda: clock["now"])
    logic.restored(store)
    logic.tick(store)
    store.commit()
    assert take(logic, store, state.payment, "cips") == [], \
        "a redelivery changes nothing"

    reuse = state.payment.model_copy(update={"msg_id": "CIPS-OTHER-0001"})
    outs = take(logic, store, reuse, "cips")
    (reply,) = [o for o in outs if o.topic == "cips.out"]
    assert b"<TxSts>RJCT</TxSts>" in (reply.value or b"") and b"<Cd>AM05</Cd>" in (reply.value or b"")

    late = Return(msg_id="RET-1", created=NOW, original=original_ref(state.payment), rtr_id="RET-1",
                  returned_amount=state.payment.settlement_amount, currency="EUR", reason_code="AC04")
    outs = take(logic, store, late, "corr")
    (dlq,) = [o for o in outs if o.topic == "router.dlq"]
    assert "archived" in header_dict(list(dlq.headers))["dlq.reason.text"]
    assert (store.get(state.uetr) or b"").startswith(RECEIPT_MARK), "the receipt stays"


def test_the_sweep_passes_a_value_that_does_not_decode_by() -> None:
    state, ports = delivered()
    store = stored(state)
    store.put("0000-corrupt", b"{}")
    store.commit()
    clock = {"now": NOW + RETENTION + timedelta(days=1)}
    logic = CorridorLogic(ports, clock=lambda: clock["now"])
    logic.restored(store)
    logic.tick(store)  # must not raise: a worker stopped by one bad value stops every payment
    store.commit()
    assert (store.get(state.uetr) or b"").startswith(RECEIPT_MARK), "the good one is archived all the same"
    assert store.get("0000-corrupt") == b"{}", "the bad one is kept as it is"


def test_one_journey_line_when_a_payment_reaches_its_outcome(caplog: pytest.LogCaptureFixture) -> None:
    from router.pipeline.corridor_stage import _log_outcome

    ports = FakePorts(quote_list=eur_quotes())
    in_flight = receive(outbound(), "cips", ports)
    done = settle(in_flight, ports)
    assert in_flight.state is not None and done.state is not None
    with caplog.at_level(logging.INFO, logger="router.journey"):
        _log_outcome(done.state.uetr, in_flight.state, in_flight.state)  # still in flight: nothing
        _log_outcome(done.state.uetr, in_flight.state, done.state)
        _log_outcome(done.state.uetr, done.state, done.state)  # a later event, same outcome: nothing
    (line,) = caplog.records
    assert line.uetr == done.state.uetr and line.outcome == "settled"  # type: ignore[attr-defined]
    assert line.hops == [h.stage.value for h in done.state.journey.hops]  # type: ignore[attr-defined]
