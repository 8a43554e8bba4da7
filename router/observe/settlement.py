"""Liquidity instruments of the settle-worker: queue depth per currency and settlements overdue
(read from the books at scrape time), and the time each settlement waited in the queue."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from typing import TYPE_CHECKING

from router.metrics import RouterMetrics
from router.settlement.book import Book
from router.settlement.model import SettlementOutcome, SettlementRequest

if TYPE_CHECKING:
    from prometheus_client import Histogram

# Decisions that take a settlement out of the liquidity queue (a DUPLICATE answers another request).
LEAVES_QUEUE = frozenset({"COMMIT", "ABORT", "RESERVED"})


def currencies(req: SettlementRequest) -> tuple[str, ...]:
    return tuple(leg.currency for leg in req.legs)


def queue_depth(books: Iterable[Book]) -> dict[str, int]:
    """Legs waiting in the liquidity queues of ``books``, per currency."""
    depth: Tally[str] = Tally()
    for book in books:
        for sid in book.queue:
            depth.update(currencies(book.waiting[sid]))
    return dict(depth)


def overdue(books: Iterable[Book], now: float) -> int:
    """Settlements still undecided past their deadline: queued past the queue deadline, or reserved
    past the hold. The timer decides them within a tick, so anything counted for long is stuck."""
    n = 0
    for book in books:
        n += sum(1 for r in book.queue.values() if r.queued_until is not None and now >= r.queued_until)
        n += sum(1 for r in book.reserved.values() if r.hold_until is not None and now >= r.hold_until)
    return n


class SettlementObserver:
    """Called by the settlement stage with each batch of outcomes, and after a restore: times a
    settlement's stay in the liquidity queue, from PENDING to the decision that ends it."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self.family = metrics.liquidity_queue_wait_seconds
        self.children: dict[str, Histogram] = {}
        self.since: dict[str, tuple[float, tuple[str, ...]]] = {}  # settlement id -> (queued at, currencies)

    def outcomes(self, book: Book, outcomes: Iterable[SettlementOutcome], now: float) -> None:
        for o in outcomes:
            if o.decision == "PENDING":
                req = book.waiting.get(o.settlement_id)
                if req is not None:
                    self.since[o.settlement_id] = (now, currencies(req))
            elif o.decision in LEAVES_QUEUE:
                entry = self.since.pop(o.settlement_id, None)
                if entry is not None:
                    for currency in entry[1]:
                        self._child(currency).observe(max(0.0, now - entry[0]))

    def restored(self, book: Book) -> None:
        for sid, r in book.queue.items():
            self.since[sid] = (r.at, currencies(book.waiting[sid]))

    def _child(self, currency: str) -> Histogram:
        child = self.children.get(currency)
        if child is None:
            child = self.children[currency] = self.family.labels(currency)
        return child
