"""The corridor's stored payment state (router.corridor.state.encode): one JSON object that
decodes to the same state, whether the payment's JSON was rendered now or handed back."""

from __future__ import annotations

import json
from datetime import timedelta

from router.corridor.state import PaymentState, Phase, encode
from router.tracker.journey import Journey
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, eur_quotes, outbound, receive


def _priced() -> PaymentState:
    step = receive(outbound(), "cips", FakePorts(quote_list=eur_quotes()))
    assert step.state is not None and step.state.lock is not None
    return step.state


def test_a_stored_state_decodes_to_the_same_state() -> None:
    state = _priced()
    raw, payment_json = encode(state)
    assert PaymentState.model_validate_json(raw) == state
    assert json.loads(raw) == json.loads(state.model_dump_json())  # the same object, keys in another order
    assert json.loads(payment_json) == json.loads(state.payment.model_dump_json())


def test_the_payments_json_handed_back_gives_the_same_bytes() -> None:
    state = _priced()
    _, payment_json = encode(state)
    later = state.model_copy(update={"phase": Phase.SETTLING, "retry_at": NOW + timedelta(seconds=5)})
    assert later.payment is state.payment
    assert encode(later, payment_json) == encode(later)
    assert PaymentState.model_validate_json(encode(later, payment_json)[0]) == later


def test_a_minimal_state_encodes() -> None:
    p = outbound()
    state = PaymentState(uetr=p.uetr, source="cips", direction="outbound", phase=Phase.RECEIVED, payment=p,
                         journey=Journey(uetr=p.uetr))
    assert PaymentState.model_validate_json(encode(state)[0]) == state
