"""What one process does when ``/metrics`` is scraped: bring the state gauges up to date.

``Scrape`` collects, per role, the readings that describe state rather than events: stage
totals, consumer lag, the corridor's holds and FX quote ages, the settlement books' queue depth
and overdue settlements. Reading them here keeps the per-record path free of them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from router.corridor.ports import Ports
from router.metrics import RouterMetrics, StageStatsSync
from router.observe.payments import CorridorObserver, quote_ages
from router.observe.settlement import overdue, queue_depth
from router.observe.stage import LagSampler
from router.streams.processor import TransactionalProcessor


class Scrape:
    def __init__(self, metrics: RouterMetrics) -> None:
        self.metrics = metrics
        self.readers: list[Callable[[], Awaitable[None] | None]] = []
        self.stats = StageStatsSync(metrics)

    def stage(self, proc: TransactionalProcessor[Any]) -> None:
        lag = LagSampler(self.metrics, proc)
        self.readers.append(lambda: self.stats(proc.logic.name, proc.stats, len(proc.tasks)))
        self.readers.append(lag)

    def corridor(self, proc: TransactionalProcessor[Any], observer: CorridorObserver, ports: Ports) -> None:
        holds, ages = self.metrics.screening_holds, self.metrics.fx_quote_age_seconds

        def read() -> None:
            holds.set(observer.holds(proc.tasks))
            for (pair, provider), age in quote_ages(ports.quotes(), datetime.now(UTC)).items():
                ages.labels(pair, provider).set(age)

        self.readers.append(read)

    def settlement(self, proc: TransactionalProcessor[Any]) -> None:
        depth_gauge, overdue_gauge = self.metrics.liquidity_queue_depth, self.metrics.settlements_overdue
        shown: set[str] = set()

        def read() -> None:
            books = [task.state for task in list(proc.tasks.values())]
            depth = queue_depth(books)
            for currency in shown | set(depth):
                depth_gauge.labels(currency).set(depth.get(currency, 0))
            shown.update(depth)
            overdue_gauge.set(overdue(books, time.time()))

        self.readers.append(read)

    async def __call__(self) -> None:
        for reader in self.readers:
            result = reader()
            if result is not None:
                await result
