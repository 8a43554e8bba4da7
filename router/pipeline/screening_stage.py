"""Screening stage: ``screening.requests`` (keyed by debtor) -> ``screening.results`` (keyed by UETR),
with every decision on ``screening.audit`` and held payments on ``screening.cases``.

Keyed by debtor so that the velocity rules (wallet daily limits, structuring) see every payment
of one debtor: each debtor's recent payments are the stage's state (``screening.velocity.
VelocityBook`` over the stage's store), kept in the compacted ``screening.velocity`` changelog
and trimmed to the rules' window. The lists in service are reloaded in a thread when their
files change (``store.poll_forever``); every decision records the list versions it used.

Nothing stops the stage: an undecodable request or an unexpected error goes to the DLQ with the
original bytes and the reason; a corrupt history value goes there too, and the debtor's window
starts afresh so that the payment is still screened.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from router.config import Settings
from router.dlq import dead_letter, dlq_headers
from router.outcome import FORMAT_ERROR, NARRATIVE, Reject
from router.screening.model import ScreeningRequest
from router.screening.store import ListStore
from router.screening.velocity import Corrupt, VelocityBook
from router.streams.processor import Out, Record, StoreLogic
from router.streams.store import Store

if TYPE_CHECKING:
    from router.observe.payments import ScreeningObserver

log = logging.getLogger(__name__)
STAGE = "screening"
CHANGELOG = "screening.velocity"


def _corrupt_dlq(record: Record, corrupt: Corrupt) -> Out:
    """The unreadable history value itself, under its debtor key, naming the request that met it."""
    reject = Reject(FORMAT_ERROR, f"corrupt {CHANGELOG} history for debtor {corrupt.key!r} ({corrupt.reason}); "
                    f"the window started afresh at {record.topic}[{record.partition}]@{record.offset}", STAGE)
    return Out("router.dlq", corrupt.key.encode(), corrupt.value, tuple(dlq_headers(
        reject, topic=CHANGELOG, partition=record.partition, offset=-1)))


class ScreeningLogic(StoreLogic):
    name: str = STAGE
    inputs: tuple[str, ...] = ("screening.requests",)
    changelog: str | None = CHANGELOG

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 observer: ScreeningObserver | None = None) -> None:
        self.observer = observer
        self.lists = ListStore(settings.screening)
        _ = self.lists.screener  # fail at start-up, not on the first payment, when no list loads
        self.clock = clock

    def process(self, store: Store, topic: str, record: Record) -> list[Out]:
        try:
            request = ScreeningRequest.model_validate_json(record.value or b"")
        except (ValidationError, ValueError) as exc:
            return [dead_letter(Reject(FORMAT_ERROR, f"undecodable screening request: {exc}"[:500], STAGE), record)]
        try:
            booked = VelocityBook(store).screen(request, self.lists.screener, self.clock())
        except Exception as exc:  # a bug must not stop the worker: keep the input, say why
            log.exception("screening failed on %s[%s]@%s", record.topic, record.partition, record.offset)
            return [dead_letter(Reject(NARRATIVE, f"internal error: {type(exc).__name__}: {exc}"[:500], STAGE), record)]
        result = booked.screened
        d = result.decision
        if self.observer is not None:
            self.observer.decided(d.outcome)
        uetr = request.uetr.encode()
        verdict = {"uetr": request.uetr, "outcome": d.outcome, "reason_code": d.reason_code, "reason": d.reason}
        outputs = [Out("screening.results", uetr, json.dumps(verdict).encode()),
                   Out("screening.audit", uetr, result.audit.to_bytes())]
        if result.case is not None:
            outputs.append(Out("screening.cases", uetr, result.case.to_bytes()))
        if booked.corrupt is not None:
            log.warning("corrupt velocity history for %r: %s", booked.corrupt.key, booked.corrupt.reason)
            outputs.append(_corrupt_dlq(record, booked.corrupt))
        return outputs
