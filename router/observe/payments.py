"""Payment instruments: payments by outcome and ISO reason code, end-to-end latency by direction,
screening decisions (rules and analysts) and the payments held for an analyst, and FX quote age.

``finished`` and ``analyst_decision`` read a payment's state before and after one corridor step;
the outcome vocabulary is the tracker's (``router track`` shows the same words).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from router.corridor.state import PaymentState, Phase
from router.fx.quote import Quote
from router.metrics import RouterMetrics
from router.tracker.journey import PaymentOutcome, Stage

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

# The metric's direction label, from the state's direction (outbound: CIPS -> correspondent).
DIRECTION = {"outbound": "cips_to_corr", "inbound": "corr_to_cips"}
ENDED = frozenset({PaymentOutcome.SETTLED, PaymentOutcome.REJECTED, PaymentOutcome.RETURNED,
                   PaymentOutcome.CANCELLED})


@dataclass(frozen=True, slots=True)
class Finished:
    outcome: str
    reason: str  # ISO 20022 reason code, "" if none (settled)
    direction: str
    # From the payment's arrival to this outcome; None when it had already ended before (a return
    # or a cancellation after settlement): its end-to-end time was measured then.
    seconds: float | None


def finished(before: PaymentState | None, after: PaymentState) -> Finished | None:
    """The outcome ``after`` reached, if this step changed the payment's outcome to an ending one."""
    outcome = after.journey.outcome
    if outcome not in ENDED:
        return None
    previous = before.journey.outcome if before is not None else PaymentOutcome.IN_FLIGHT
    if previous is outcome:
        return None
    hops = after.journey.hops
    seconds = None if previous in ENDED else max(0.0, (hops[-1].at - hops[0].at).total_seconds())
    return Finished(outcome.value, after.journey.reason or "", DIRECTION[after.direction], seconds)


def analyst_decision(before: PaymentState | None, after: PaymentState) -> str | None:
    """``release`` or ``reject`` when this step is an analyst deciding a held payment."""
    if before is None or before.phase is not Phase.HELD or after.phase is Phase.HELD:
        return None
    if after.phase is Phase.REJECTED:
        return "reject"
    if after.journey.last(Stage.RELEASED) is not None and before.journey.last(Stage.RELEASED) is None:
        return "release"
    return None  # left the hold otherwise (the payer cancelled it)


def quote_ages(quotes: Iterable[Quote], now: datetime) -> dict[tuple[str, str], float]:
    """Age in seconds of the newest quote per (pair, provider)."""
    ages: dict[tuple[str, str], float] = {}
    for q in quotes:
        age = max(0.0, (now - q.ts).total_seconds())
        key = (q.pair, q.provider)
        ages[key] = min(age, ages.get(key, age))
    return ages


class CorridorObserver:
    """Called by the corridor stage on every state change of a payment, and after a restore."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self.payments = metrics.payments
        self.e2e = metrics.payment_e2e_seconds
        self.decisions = metrics.screening_decisions
        self.counted: dict[tuple[str, str], Counter] = {}
        self.timed: dict[str, Histogram] = {}
        self.held: dict[int, set[str]] = {}  # partition -> UETRs waiting for an analyst

    def changed(self, partition: int, uetr: str, before: PaymentState | None, after: PaymentState) -> None:
        held = self.held.setdefault(partition, set())
        if after.phase is Phase.HELD:
            held.add(uetr)
        elif before is not None and before.phase is Phase.HELD:
            held.discard(uetr)
            decision = analyst_decision(before, after)
            if decision is not None:
                self.decisions.labels(decision, "analyst").inc()
        if before is not None and before.journey.outcome is after.journey.outcome:
            return  # the common step: nothing ended
        done = finished(before, after)
        if done is None:
            return
        key = (done.outcome, done.reason)
        counter = self.counted.get(key)
        if counter is None:
            counter = self.counted[key] = self.payments.labels(*key)
        counter.inc()
        if done.seconds is not None:
            hist = self.timed.get(done.direction)
            if hist is None:
                hist = self.timed[done.direction] = self.e2e.labels(done.direction)
            hist.observe(done.seconds)

    def restored(self, partition: int, held: set[str]) -> None:
        self.held[partition] = held

    def holds(self, partitions: Iterable[int]) -> int:
        """Payments held in ``partitions`` (those this worker owns now)."""
        return sum(len(self.held.get(p, ())) for p in partitions)


class ScreeningObserver:
    """Called by the screening stage with each rules decision (clear, hold, reject)."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self.family = metrics.screening_decisions
        self.children: dict[str, Counter] = {}

    def decided(self, outcome: str) -> None:
        child = self.children.get(outcome)
        if child is None:
            child = self.children[outcome] = self.family.labels(outcome, "rules")
        child.inc()
