"""Screening as the running corridor uses it: the configured lists (reloaded when their files
change), the pure screening service, and each debtor's recent payments for the velocity rules.

The velocity history lives in this worker's memory, keyed by debtor. The payment flow is
partitioned by UETR, so with several workers a debtor's payments can be seen by different
workers; the structuring rule is then per worker. Repartitioning by debtor would make it exact
at the cost of one more Kafka hop per payment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from router.config import Settings
from router.corridor.ports import Verdict
from router.corridor.screening_view import screening_request
from router.iso20022.directory import Directory
from router.iso20022.model import Payment, Side
from router.screening.rules import History
from router.screening.service import screen
from router.screening.store import ListStore

REFRESH_EVERY_S = 5.0


@dataclass
class ScreeningPort:
    store: ListStore
    directory: Directory
    histories: dict[str, History] = field(default_factory=dict)
    checked_at: float = 0.0

    @classmethod
    def create(cls, settings: Settings, directory: Directory) -> ScreeningPort:
        port = cls(ListStore(settings.screening), directory)
        _ = port.store.screener  # fail at start-up, not on the first payment, when no list loads
        return port

    def screen(self, payment: Payment, source: Side, now: datetime) -> Verdict:
        if time.monotonic() - self.checked_at > REFRESH_EVERY_S:
            self.checked_at = time.monotonic()
            self.store.refresh()
        request = screening_request(payment, self.directory)
        key = request.velocity_key()
        result = screen(request, self.store.screener, self.histories.get(key, ()), now)
        self.histories[key] = result.history
        d = result.decision
        return Verdict(
            outcome=d.outcome, reason_code=d.reason_code, text=d.reason,
            case=result.case.model_dump(mode="json") if result.case else None,
            audit=(result.audit.model_dump(mode="json"),),
            matches=tuple(m.model_dump(mode="json") for m in d.matches))
