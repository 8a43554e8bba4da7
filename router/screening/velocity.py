"""Per-debtor payment history for the velocity rules, kept in any string mapping.

The stage passes a faust ``Table`` (changelogged in Kafka, so the window survives restarts and
rebalances) or, in tests and the CLI, a plain ``dict``. Values are JSON; ``rules.remember``
trims every history to the structuring window (and the e-CNY day), so the table holds a sliding
window per debtor rather than faust's fixed hopping windows, which would split a burst of
payments across two windows and miss it.

Partitioning: a faust table lives in the partition of the event being processed, so the
stream feeding it must be keyed (or ``group_by``-ed) by ``ScreeningRequest.velocity_key()``;
keyed by UETR, one debtor's payments would be counted on different workers.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from datetime import datetime

from router.screening.model import ScreeningRequest
from router.screening.rules import History, history_from_json, history_to_json
from router.screening.screener import Screener
from router.screening.service import Screened, screen


class VelocityBook:
    def __init__(self, table: MutableMapping[str, str]) -> None:
        self.table = table

    def history(self, key: str) -> History:
        raw = self.table.get(key)
        if not raw:
            return ()
        try:
            return history_from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            return ()  # a corrupt value must not block the debtor's payments; start afresh

    def store(self, key: str, history: History) -> None:
        self.table[key] = json.dumps(history_to_json(history))

    def screen(self, request: ScreeningRequest, screener: Screener, now: datetime) -> Screened:
        """``service.screen`` with this book's history for the debtor, updated afterwards."""
        key = request.velocity_key()
        result = screen(request, screener, self.history(key), now)
        if key and result.history != self.history(key):
            self.store(key, result.history)
        return result
