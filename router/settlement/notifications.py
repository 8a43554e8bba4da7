"""Which messages an outcome calls for: pacs.002 to the sender, camt.054 per moved account."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from router.settlement.model import Outcome


@dataclass(frozen=True, slots=True)
class StatusReport:
    """pacs.002 to ``recipient`` (the sender) for ``uetr``: ACSC, PDNG or RJCT + reason."""

    recipient: str
    uetr: str
    original_msg_id: str
    status: Literal["ACSC", "RJCT", "PDNG"]
    reason: str | None


@dataclass(frozen=True, slots=True)
class AccountNotification:
    """camt.054 to ``recipient`` (the account owner): ``account`` moved by ``amount``."""

    recipient: str
    uetr: str
    account: str
    currency: str
    direction: Literal["DBIT", "CRDT"]
    amount: Decimal
    balance_after: Decimal


Notification = StatusReport | AccountNotification


def notifications_for(outcome: Outcome) -> list[Notification]:
    """The status report first, then one debit / credit notification per posting, in booking order."""
    out: list[Notification] = [StatusReport(recipient=outcome.sender, uetr=outcome.uetr,
                                            original_msg_id=outcome.msg_id, status=outcome.status,
                                            reason=outcome.reason)]
    if outcome.decision == "COMMIT":
        out.extend(AccountNotification(recipient=p.owner, uetr=outcome.uetr, account=p.account,
                                       currency=p.currency, direction=p.direction, amount=p.amount,
                                       balance_after=p.balance_after)
                   for p in outcome.postings)
    return out
