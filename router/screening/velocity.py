"""Per-debtor payment history for the velocity rules: the screening stage's state.

The stage keeps it in its ``Store``, changelogged to the compacted ``screening.velocity`` topic
so the window survives restarts and rebalances. Values are JSON; ``rules.remember`` trims every
history to the structuring window (and the e-CNY day), so each value is a sliding window per
debtor rather than fixed windows, which would split a burst of payments across two and miss it.

Partitioning: the state lives in the partition of the request being screened, so
``screening.requests`` is keyed by ``ScreeningRequest.velocity_key()``; keyed by UETR, one
debtor's payments would be counted on different workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from router.screening.model import ScreeningRequest
from router.screening.rules import History, history_from_json, history_to_json
from router.screening.screener import Screener
from router.screening.service import Screened, screen


class HistoryStore(Protocol):
    """What the book needs of its state: ``router.streams.processor.Store`` in the stage."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Corrupt:
    """A history value that did not decode: kept (for the DLQ) with the reason it was refused."""

    key: str
    value: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class BookResult:
    screened: Screened
    # Set when the debtor's stored history was unreadable and the window started afresh.
    corrupt: Corrupt | None = None


class VelocityBook:
    def __init__(self, store: HistoryStore) -> None:
        self.store = store

    def history(self, key: str) -> tuple[History, Corrupt | None]:
        raw = self.store.get(key)
        if not raw:
            return (), None
        try:
            return history_from_json(json.loads(raw)), None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A corrupt value must not block the debtor's payments: start afresh, and hand the
            # value back so the caller keeps it in the DLQ with the reason.
            return (), Corrupt(key, raw, f"{type(exc).__name__}: {exc}"[:300])

    def screen(self, request: ScreeningRequest, screener: Screener, now: datetime) -> BookResult:
        """``service.screen`` with this book's history for the debtor, updated afterwards."""
        key = request.velocity_key()
        history, corrupt = self.history(key)
        result = screen(request, screener, history, now)
        if key and (result.history != history or corrupt is not None):
            self.store.put(key, json.dumps(history_to_json(result.history)).encode())
        return BookResult(result, corrupt)
