"""Settlement state retention: what may shrink or go, and when (pure, no Kafka).

Three kinds of per-partition state grow with every settlement; each is bounded differently:

* A decided settlement (COMMITTED or ABORTED, the latter including MsgId duplicates) keeps its
  full coordinator state for ``retention_days`` after its decision, then shrinks to a
  ``SettlementReceipt``. It is never removed: a redelivered or replayed request for the same
  settlement id finds the receipt and gets the duplicate answer a full state gives, never a
  second settlement. A settlement still COMMITTING (bookings pending) is never archived.
* A MsgId claim is removed ``retention_days`` after it was made. The claim only exists to refuse
  a *different* settlement reusing a sender's MsgId; that is a duplicate-detection window, as in
  every payment system (MsgIds are unique over an agreed period, not forever). By then the
  claiming settlement was decided long ago (the retention exceeds the PvP deadline) and the
  Claim command can no longer be replayed (the retention exceeds the command topic's horizon).
* A ledger entry is removed ``entry_retention_days`` after its last change, and only when it is
  finished (COMMITTED, CREDITED, RELEASED, REJECTED). Entries holding money (RESERVED, QUEUED)
  are kept, and so are fundings: a fund id is an operator's promise that can be re-sent by hand
  at any time. Every command for an entry was written before its settlement's decision, so once
  the retention (validated to exceed the command topic's replay horizon + the PvP deadline +
  a margin) has passed, no command the entry guards can come back.

Account balances are never removed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from router.settlement.coordinator import CoordinatorStep, SettlementState, Tick, duplicate_answer
from router.settlement.dedup import ClaimState
from router.settlement.ledger import Entry
from router.settlement.model import AccountEvent, SettlementRequest

RESTING: frozenset[str] = frozenset({"COMMITTED", "ABORTED"})
FINISHED: frozenset[str] = frozenset({"COMMITTED", "CREDITED", "RELEASED", "REJECTED"})
RECEIPT_MARK = b'{"kind":"receipt"'  # how a stored receipt starts (``kind`` is its first field)


class SettlementReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["receipt"] = "receipt"
    settlement_id: str
    uetr: str
    sender: str
    msg_id: str
    decision: Literal["COMMIT", "ABORT"]
    reason: str | None = None
    duplicate_of: str | None = None
    decided_at: float
    archived_at: float
    duplicates_answered: int = 0


Coordinated = SettlementState | SettlementReceipt


def is_receipt(raw: bytes) -> bool:
    return raw.startswith(RECEIPT_MARK)


def decode(raw: bytes) -> Coordinated:
    if is_receipt(raw):
        return SettlementReceipt.model_validate_json(raw)
    return SettlementState.model_validate_json(raw)


def at_rest_since(state: Coordinated) -> float | None:
    """When the settlement was decided, if nothing can change it any more; None otherwise."""
    if isinstance(state, SettlementReceipt) or state.phase not in RESTING:
        return None
    return state.decided_at


def due(state: Coordinated, now: float, retention_s: float) -> bool:
    since = at_rest_since(state)
    return since is not None and since + retention_s <= now


def receipt(state: SettlementState, now: float) -> SettlementReceipt:
    assert state.decision is not None and state.decided_at is not None, "only decided settlements are archived"
    r = state.request
    return SettlementReceipt(settlement_id=r.settlement_id, uetr=r.uetr, sender=r.sender, msg_id=r.msg_id,
                             decision=state.decision, reason=state.reason, duplicate_of=state.duplicate_of,
                             decided_at=state.decided_at, archived_at=now,
                             duplicates_answered=state.duplicates_answered)


def on_event(r: SettlementReceipt, event: SettlementRequest | AccountEvent | Tick,
             now: float) -> tuple[SettlementReceipt, CoordinatorStep]:
    """What an archived settlement answers. A request gets the coordinator's own duplicate
    answer; account answers are late (the decision was final long ago) and change nothing,
    exactly as for a full decided state. The CoordinatorStep carries outcomes only, never commands."""
    if isinstance(event, SettlementRequest):
        answered = r.model_copy(update={"duplicates_answered": r.duplicates_answered + 1})
        return answered, CoordinatorStep(None, outcomes=(duplicate_answer(event, r.settlement_id, now),))
    return r, CoordinatorStep(None)


# --- the account changelog: MsgId claims and ledger entries ---

def expiry_start(value: object) -> tuple[bool, float | None]:
    """(whether ``value`` ever expires, when its retention starts: None for an unstamped value
    from an older changelog, which the sweep stamps first)."""
    if isinstance(value, ClaimState):
        return True, value.at
    if isinstance(value, Entry) and value.status in FINISHED and value.role != "fund":
        return True, value.at
    return False, None


def expired(value: object, now: float, retention_s: float, entry_retention_s: float) -> bool:
    expires, since = expiry_start(value)
    if not expires or since is None:
        return False
    keep = entry_retention_s if isinstance(value, Entry) else retention_s
    return since + keep <= now
