"""Per-stage instruments: transaction commit latency, restore time, DLQ records by reason, and
consumer lag per group and partition (sampled when ``/metrics`` is scraped)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from aiokafka.errors import IllegalStateError

from router.dlq import reason_of
from router.metrics import RouterMetrics

if TYPE_CHECKING:
    from prometheus_client import Counter

    from router.streams.processor import Out, TransactionalProcessor

DLQ_TOPIC = "router.dlq"


class StageObserver:
    """The processor's ``Observer`` for one stage."""

    def __init__(self, metrics: RouterMetrics, stage: str) -> None:
        self.commit = metrics.stage_commit_seconds.labels(stage)
        self.restore = metrics.restore_seconds.labels(stage)
        self.dlq_family = metrics.dlq_records
        self.dlq: dict[tuple[str, str], Counter] = {}

    def committed(self, seconds: float, outputs: list[Out]) -> None:
        self.commit.observe(seconds)
        for o in outputs:
            if o.topic == DLQ_TOPIC:
                labels = reason_of(o.headers)
                child = self.dlq.get(labels)
                if child is None:
                    child = self.dlq[labels] = self.dlq_family.labels(*labels)
                child.inc()

    def restored(self, seconds: float) -> None:
        self.restore.observe(seconds)


def lag(end: int | None, position: int) -> int | None:
    """Records behind the end of a partition; ``None`` while the end is unknown (no fetch yet)."""
    return None if end is None else max(0, end - position)


class LagSampler:
    """Sets ``router_consumer_lag`` for the input partitions a processor owns, at scrape time.

    The end is the last stable offset (what a read_committed consumer can reach), from the
    consumer's latest fetch; series of partitions it no longer owns are removed."""

    def __init__(self, metrics: RouterMetrics, proc: TransactionalProcessor[Any]) -> None:
        self.gauge = metrics.consumer_lag
        self.proc = proc
        self.shown: set[tuple[str, str, str]] = set()

    async def __call__(self) -> None:
        proc, consumer = self.proc, self.proc.consumer
        shown: set[tuple[str, str, str]] = set()
        if consumer is not None:
            for tp in consumer.assignment():
                if tp.partition not in proc.tasks:
                    continue  # not restored yet: its position is not settled
                end = consumer.last_stable_offset(tp)
                if end is None:
                    end = consumer.highwater(tp)
                try:
                    position = await asyncio.wait_for(consumer.position(tp), 1.0)
                except (IllegalStateError, TimeoutError):
                    continue
                behind = lag(end, position)
                if behind is None:
                    continue
                labels = (proc.group_id, proc.logical(tp.topic), str(tp.partition))
                self.gauge.labels(*labels).set(behind)
                shown.add(labels)
        for gone in self.shown - shown:
            with contextlib.suppress(KeyError):
                self.gauge.remove(*gone)
        self.shown = shown
