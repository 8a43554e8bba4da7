"""Payments at rest shrink to receipts: the corridor's state stays bounded by traffic x retention.

A delivered, rejected, cancelled or returned payment keeps its full ``PaymentState`` for
``retention_days`` after its last event (returns, cancellations and status reports need it).
Then the orchestrator replaces it by a ``Receipt`` of a few hundred bytes: enough to answer a
message that reuses the UETR as a duplicate, never to book it twice, and to refuse late events
with a reason. The payment's journey remains on the compacted ``payments.status`` topic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from router.corridor import outbound
from router.corridor.effects import Send
from router.corridor.ports import Ports
from router.corridor.state import FINAL, PaymentState, Phase
from router.iso20022.model import Payment, Side
from router.outcome import DUPLICATE, NARRATIVE, Reject

RESTING = frozenset({Phase.DELIVERED, *FINAL})
RECEIPT_MARK = b'{"kind":"receipt"'  # how a stored receipt starts (``kind`` is its first field)


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["receipt"] = "receipt"
    uetr: str
    source: Side
    msg_id: str
    phase: Phase
    at_rest_since: datetime
    archived_at: datetime


def at_rest_since(state: PaymentState) -> datetime | None:
    """When the payment's last event happened, if it is at rest; None while it is in flight."""
    if state.phase not in RESTING or not state.journey.hops:
        return None
    return max(h.at for h in state.journey.hops)


def due(state: PaymentState, now: datetime, retention: timedelta) -> bool:
    since = at_rest_since(state)
    return since is not None and since + retention <= now


def receipt(state: PaymentState, now: datetime) -> Receipt:
    since = at_rest_since(state)
    assert since is not None, "only payments at rest are archived"
    return Receipt(uetr=state.uetr, source=state.source, msg_id=state.payment.msg_id, phase=state.phase,
                   at_rest_since=since, archived_at=now)


def is_receipt(raw: bytes) -> bool:
    return raw.startswith(RECEIPT_MARK)


def on_event(r: Receipt, message: object, source: Side | None, ports: Ports,
             now: datetime) -> tuple[tuple[Send, ...], Reject | None]:
    """What an archived payment answers: duplicates of a payment as duplicates, everything else
    refused with the reason (kept in the DLQ for an operator)."""
    if isinstance(message, Payment):
        if message.msg_id == r.msg_id and source == r.source:
            return (), None  # a redelivery of the payment itself
        dup = outbound.status(ports, message, source or r.source, "RJCT", DUPLICATE, now,
                             text=f"UETR {message.uetr} already used by {r.msg_id}", purpose=f"dup:{message.msg_id}")
        return (dup,), None
    what = message if isinstance(message, str) else getattr(message, "kind", "event")
    return (), Reject(NARRATIVE, f"{what} for payment {r.uetr}, {r.phase.value} and archived on "
                                 f"{r.archived_at.date().isoformat()} (at rest since "
                                 f"{r.at_rest_since.date().isoformat()}): handle by hand", "corridor")
