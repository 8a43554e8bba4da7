"""One call for the payment pipeline: screen a request and get every record to send.

``screen`` is pure: the caller passes the debtor's velocity history (from its table, keyed
by ``request.velocity_key()``) and stores the returned one. Records, keyed by UETR:
``audit`` -> ``screening.audit`` always; ``case`` -> ``screening.cases`` on hold; on reject,
``decision.reject()`` is the ``Reject`` (ISO reason code) for the pacs.002 RJCT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.screening.cases import AuditRecord, Case, audit_for, case_for
from router.screening.decision import ScreeningDecision, screen_payment
from router.screening.model import ScreeningRequest
from router.screening.rules import History, remember
from router.screening.screener import Screener


@dataclass(frozen=True, slots=True)
class Screened:
    decision: ScreeningDecision
    audit: AuditRecord
    case: Case | None
    # The debtor's history after this payment: refused payments do not count towards limits.
    history: History


def screen(request: ScreeningRequest, screener: Screener, history: History, now: datetime) -> Screened:
    decision = screen_payment(request, screener, history, now)
    case = case_for(decision, request) if decision.outcome == "hold" else None
    new_history = history if decision.outcome == "reject" else remember(history, request, now, screener.settings)
    return Screened(decision, audit_for(decision), case, new_history)
