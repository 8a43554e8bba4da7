"""The corridor's stored payment state (router.corridor.state.encode / decode): one JSON object that
decodes to the same state, whether the payment's JSON was rendered now or handed back, and the
states stored before the state became a msgspec struct still decode."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from router.corridor.state import PaymentState, Phase, decode, encode, updated
from router.tracker.journey import Journey
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, eur_quotes, outbound, receive

# encode(_priced()) as the pydantic PaymentState of commit 706c212 wrote it: what a changelog
# written by an earlier version holds.
PYDANTIC_ERA = Path(__file__).parent.parent / "data" / "corridor_state_pydantic_era.json"


def _priced() -> PaymentState:
    step = receive(outbound(), "cips", FakePorts(quote_list=eur_quotes()))
    assert step.state is not None and step.state.lock is not None
    return step.state


def test_a_stored_state_decodes_to_the_same_state() -> None:
    state = _priced()
    raw, payment_json = encode(state)
    assert decode(raw) == state
    assert json.loads(payment_json) == json.loads(state.payment.model_dump_json())
    assert json.loads(raw)["payment"] == json.loads(payment_json)


def test_a_state_stored_by_the_pydantic_model_decodes_and_encodes_the_same() -> None:
    legacy = PYDANTIC_ERA.read_bytes()
    state = decode(legacy)
    assert state == _priced()
    assert json.loads(encode(state)[0]) == json.loads(legacy)  # the same object, keys in any order


def test_the_payments_json_handed_back_gives_the_same_bytes() -> None:
    state = _priced()
    _, payment_json = encode(state)
    later = updated(state, phase=Phase.SETTLING, retry_at=NOW + timedelta(seconds=5))
    assert later.payment is state.payment
    assert encode(later, payment_json) == encode(later)
    assert decode(encode(later, payment_json)[0]) == later


def test_a_minimal_state_encodes() -> None:
    p = outbound()
    state = PaymentState(uetr=p.uetr, source="cips", direction="outbound", phase=Phase.RECEIVED, payment=p,
                         journey=Journey(uetr=p.uetr))
    assert decode(encode(state)[0]) == state
