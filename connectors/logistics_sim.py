"""A simulated logistics party: confirms delivery of goods paid by programmable e-CNY payments.

It signs a condition event (``router.corridor.conditions``) for each delivery it confirms and
publishes it on ``conditions.events`` keyed by the payment's UETR. Its Ed25519 key is derived
from the simulation seed, so the demo can put the matching public key into the corridor's
settings (``corridor.condition_keys``) before it starts the router processes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from router.config import Settings
from router.corridor.conditions import ConditionEvent, public_key_b64, sign
from router.iso20022.model import Condition, Payment

PARTY = "LOGISTICS1"


def key_for(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"logistics:{seed}".encode()).digest())


def with_logistics_key(s: Settings) -> Settings:
    """The settings with the simulated logistics party's public key trusted by the corridor."""
    keys = {**s.corridor.condition_keys, PARTY: public_key_b64(key_for(s.sim.seed))}
    return s.model_copy(update={"corridor": s.corridor.model_copy(update={"condition_keys": keys})})


def make_conditional(p: Payment, expiry_s: float, counter: int) -> Payment:
    """A trade payment that releases on delivery: ``PARTY`` must confirm before the expiry."""
    cond = Condition(id=f"PO-{counter:06d}", releasing_party=PARTY,
                     expiry=datetime.now(UTC) + timedelta(seconds=expiry_s))
    return p.model_copy(update={"condition": cond})


def delivery_event(p: Payment, seed: int) -> bytes:
    assert p.condition is not None
    ev = ConditionEvent(event_id=f"DLV-{p.condition.id}", uetr=p.uetr, condition_id=p.condition.id, party=PARTY,
                        at=datetime.now(UTC))
    return sign(ev, key_for(seed)).model_dump_json().encode()
