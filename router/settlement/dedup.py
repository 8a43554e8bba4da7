"""Duplicate detection by (sender, MsgId) across UETRs.

Requests are partitioned by UETR, so two requests that reuse one sender MsgId under different
UETRs meet on different coordinator partitions. The coordinator therefore sends a CLAIM keyed
by ``msgid|sender|MsgId`` through the account-processor topic: every claim for one
(sender, MsgId) lands on one partition, where the first settlement to claim it owns it for good.
The claim travels in parallel with the RESERVE commands, and COMMIT waits for CLAIMED, so a
second settlement reusing a MsgId is aborted (AM05) before it can book.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from router.outcome import DUPLICATE
from router.settlement.model import AccountEvent, Claim, claim_key


class ClaimState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sender: str
    msg_id: str
    settlement_id: str  # the first settlement that claimed this MsgId
    at: float | None = None  # when the stage wrote the claim; None in older changelogs


def claim(state: ClaimState | None, cmd: Claim) -> tuple[ClaimState, AccountEvent]:
    key = claim_key(cmd.sender, cmd.msg_id)
    if state is None or state.settlement_id == cmd.settlement_id:
        owner = state or ClaimState(sender=cmd.sender, msg_id=cmd.msg_id, settlement_id=cmd.settlement_id)
        return owner, AccountEvent(type="CLAIMED", settlement_id=cmd.settlement_id, account=key)
    return state, AccountEvent(type="CLAIM_DUPLICATE", settlement_id=cmd.settlement_id, account=key,
                               reason=DUPLICATE, duplicate_of=state.settlement_id)
