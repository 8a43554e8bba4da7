"""Screening stage: ``screening.requests`` (keyed by debtor) -> ``screening.results`` (keyed by UETR),
with every decision on ``screening.audit`` and held payments on ``screening.cases``.

Keyed by debtor so that the velocity rules (wallet daily limits, structuring) see every payment
of one debtor: each debtor's recent payments are the stage's state, kept in the compacted
``screening.velocity`` changelog and trimmed to the rules' window. The lists in service are
reloaded when their files change; every decision records the list versions it used.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from router.config import Settings
from router.dlq import dlq_headers
from router.outcome import FORMAT_ERROR, Reject
from router.screening.model import ScreeningRequest
from router.screening.rules import history_from_json, history_to_json
from router.screening.service import screen
from router.screening.store import ListStore
from router.streams.processor import Out, Record, Store, StoreLogic, record_headers

log = logging.getLogger(__name__)
REFRESH_EVERY_S = 5.0


class ScreeningLogic(StoreLogic):
    name: str = "screening"
    inputs: tuple[str, ...] = ("screening.requests",)
    changelog: str | None = "screening.velocity"

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.lists = ListStore(settings.screening)
        _ = self.lists.screener  # fail at start-up, not on the first payment, when no list loads
        self.clock = clock
        self.checked_at = time.monotonic()

    def tick(self, store: Store) -> list[Out]:
        if time.monotonic() - self.checked_at > REFRESH_EVERY_S:
            self.checked_at = time.monotonic()
            self.lists.refresh()
        return []

    def process(self, store: Store, topic: str, record: Record) -> list[Out]:
        try:
            request = ScreeningRequest.model_validate_json(record.value or b"")
        except (ValidationError, ValueError) as exc:
            reject = Reject(FORMAT_ERROR, f"undecodable screening request: {exc}"[:500], "screening")
            return [Out("router.dlq", record.key, record.value, tuple(dlq_headers(
                reject, topic=record.topic, partition=record.partition, offset=record.offset,
                original=record_headers(record))))]
        key = request.velocity_key()
        raw = store.get(key)
        history = history_from_json(json.loads(raw)) if raw else ()
        result = screen(request, self.lists.screener, history, self.clock())
        store.put(key, json.dumps(history_to_json(result.history)).encode())
        d = result.decision
        uetr = request.uetr.encode()
        verdict = {"uetr": request.uetr, "outcome": d.outcome, "reason_code": d.reason_code, "reason": d.reason}
        outputs = [Out("screening.results", uetr, json.dumps(verdict).encode()),
                   Out("screening.audit", uetr, result.audit.to_bytes())]
        if result.case is not None:
            outputs.append(Out("screening.cases", uetr, result.case.to_bytes()))
        return outputs
