"""A payment's state as the corridor orchestrator keeps it (one record per UETR)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from enum import StrEnum
from typing import Literal

import msgspec
from pydantic import BaseModel

from router.fx.lock import LockedQuote
from router.iso20022.model import CancellationRequest, Payment, Side
from router.tracker.journey import Journey

Direction = Literal["outbound", "inbound"]  # outbound: CIPS -> correspondent
# reserving: asked the ledger to hold the legs; held: reserved, awaiting the event; releasing: a valid
# event was sent on to the ledger; met / expired / cancelled: how it ended (the ledger decided).
ConditionState = Literal["reserving", "held", "releasing", "met", "expired", "cancelled"]


class Phase(StrEnum):
    RECEIVED = "received"
    SCREENING = "screening"  # waiting for the screening stage's verdict
    HELD = "held"  # waiting for a compliance analyst
    WAITING_FX = "waiting-fx"  # no fresh quote yet
    SETTLING = "settling"  # settlement request sent, no decision yet
    CONDITIONAL = "awaiting-condition"  # legs reserved on the ledger until the condition is met
    DELIVERED = "delivered"  # settled and sent on to the other side
    REVERSING = "reversing"  # a reverse PvP (return or refusal) is settling
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    RETURNED = "returned"


FINAL = frozenset({Phase.REJECTED, Phase.CANCELLED, Phase.RETURNED})


class Reversal(msgspec.Struct, frozen=True, kw_only=True):
    """A reverse PvP after settlement: a return (pacs.004) or a refusal (pacs.002 RJCT)."""

    kind: Literal["return", "refusal"]
    settlement_id: str
    reason: str
    # What the receiving side gives back, in its currency, and what the sender gets, in its own.
    amount_back: str
    currency_back: str
    amount_to_sender: str | None = None
    currency_to_sender: str | None = None
    return_id: str | None = None
    lock: LockedQuote | None = None


class PaymentState(msgspec.Struct, frozen=True, kw_only=True):
    """A msgspec struct, not a pydantic model: the corridor copies it on every hop and stores it
    on every event, and pydantic's copies and JSON were ~10% of the corridor's CPU (issue 12). The
    ISO 20022 parts it holds (payment, cancellation, FX lock) stay pydantic models, validated at
    the edge; ``encode`` and ``decode`` carry them as JSON in the same shape pydantic wrote."""

    uetr: str
    source: Side
    direction: Direction
    phase: Phase
    payment: Payment
    lock: LockedQuote | None = None
    settlement_id: str | None = None
    delivered_msg_id: str | None = None
    waiting_since: datetime | None = None
    retry_at: datetime | None = None
    cancel: CancellationRequest | None = None
    reversal: Reversal | None = None
    reason: str | None = None
    # A conditional payment: where its condition stands, and the condition events already used.
    condition_state: ConditionState | None = None
    condition_events: tuple[str, ...] = ()
    journey: Journey

    @property
    def target(self) -> Side:
        return "corr" if self.source == "cips" else "cips"


def updated(state: PaymentState, **changes: object) -> PaymentState:
    """``state`` with ``changes`` (the struct is frozen)."""
    return msgspec.structs.replace(state, **changes)


_MEMO: OrderedDict[int, tuple[BaseModel, bytes]] = OrderedDict()
MEMO_SIZE = 10_000  # the payments in flight, as the stage's state cache


def model_json(obj: BaseModel) -> bytes:
    """``obj``'s pydantic JSON, rendered once per object for a frozen model. A payment's FX lock
    goes into its stored state and its status snapshot on every event after pricing: rendering it
    each time was ~1.5% of the corridor's CPU. Keyed by identity, holding the object, so an id
    is not reused while its entry lives; a mutable model is rendered every time."""
    hit = _MEMO.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    out = obj.model_dump_json().encode()
    if obj.model_config.get("frozen"):
        _MEMO[id(obj)] = (obj, out)
        if len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return out


def _as_json(obj: object) -> msgspec.Raw:
    if isinstance(obj, BaseModel):
        return msgspec.Raw(model_json(obj))
    raise NotImplementedError(f"cannot store {type(obj).__name__}")


def _from_json(kind: type, obj: object) -> object:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind.model_validate(obj)
    raise NotImplementedError(f"cannot read {kind!r}")


_DECODER = msgspec.json.Decoder(PaymentState, dec_hook=_from_json)


def encode(state: PaymentState, payment_json: bytes | None = None) -> tuple[bytes, bytes]:
    """The stored form of ``state`` (its JSON) and of its payment alone. A payment does not change
    after intake while its state is stored again on every event, so the caller hands back the
    payment's JSON from the last encoding when the payment is the same object."""
    pj = payment_json if payment_json is not None else state.payment.model_dump_json().encode()
    payment = state.payment

    def hook(obj: object) -> msgspec.Raw:
        return msgspec.Raw(pj) if obj is payment else _as_json(obj)

    return msgspec.json.encode(state, enc_hook=hook), pj


def decode(raw: bytes) -> PaymentState:
    """A stored state (``encode``'s output, or the pydantic JSON of earlier versions)."""
    return _DECODER.decode(raw)
