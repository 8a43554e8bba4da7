"""Condition events: what releases a programmable (conditional) payment, and how it is trusted.

A releasing party (e.g. a logistics company confirming delivery) publishes a signed JSON event
on ``conditions.events``, keyed by the payment's UETR so that it meets the payment in its
corridor task. The signature is Ed25519 over the event's canonical bytes (every field but
``signature``, JSON with sorted keys and no spaces), by the key configured for that party
(``ROUTER_CORRIDOR__CONDITION_KEYS``: party -> base64 raw 32-byte public key).

``verify`` checks only what the event says about itself (shape, party, signature); whether it
fits the payment (condition id, releasing party, expiry, replay) is the lifecycle's question.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from router.outcome import FORMAT_ERROR, NARRATIVE, Ok, Reject, Result

STAGE = "conditions"
_Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
# What the DLQ reason text starts with, one per way an event is refused.
FORGED, REPLAYED, LATE, MISMATCH = "forged", "replayed", "late", "mismatch"


class ConditionEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: _Id
    uetr: Annotated[str, Field(min_length=1, max_length=64)]
    condition_id: _Id
    party: _Id
    at: AwareDatetime  # when the party says the condition was met
    signature: str = ""  # base64 Ed25519 signature of ``signed_bytes``

    def signed_bytes(self) -> bytes:
        body = self.model_dump(mode="json", exclude={"signature"})
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(event: ConditionEvent, key: Ed25519PrivateKey) -> ConditionEvent:
    sig = base64.b64encode(key.sign(event.signed_bytes())).decode()
    return event.model_copy(update={"signature": sig})


def public_key_b64(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public_key(b64: str) -> Ed25519PublicKey:
    """A raw 32-byte Ed25519 public key from base64 (ValueError when it is not one)."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from exc
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(raw: bytes, keys: Mapping[str, str]) -> Result[ConditionEvent]:
    """The event, if it is well formed and signed by the key configured for its party."""
    try:
        event = ConditionEvent.model_validate_json(raw)
    except (ValidationError, ValueError) as exc:
        return Reject(FORMAT_ERROR, f"undecodable condition event: {exc}"[:500], STAGE)
    key = keys.get(event.party)
    if key is None:
        return Reject(NARRATIVE, f"{FORGED}: no key configured for party {event.party}", STAGE)
    try:
        load_public_key(key).verify(base64.b64decode(event.signature, validate=True), event.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return Reject(NARRATIVE, f"{FORGED}: signature of event {event.event_id} does not verify with "
                                 f"{event.party}'s key", STAGE)
    return Ok(event)


def event_at_fits(event: ConditionEvent, expiry: datetime, now: datetime) -> str | None:
    """Why an authentic event comes too late for a condition expiring at ``expiry`` (None: in time)."""
    if event.at >= expiry:
        return f"{LATE}: event {event.event_id} says it was met at {event.at.isoformat()}, after the expiry " \
               f"{expiry.isoformat()}"
    if now >= expiry:
        return f"{LATE}: event {event.event_id} arrived at {now.isoformat()}, after the expiry {expiry.isoformat()}"
    return None
