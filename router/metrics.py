"""Every Prometheus metric the router exports, declared once.

The dashboard (``deploy/monitoring/grafana-dashboard.json``) and the alert rules
(``deploy/monitoring/alerts.yaml``) may only query names declared here; a unit test holds them to
it. Stages get their instruments from ``RouterMetrics``; each process builds one on its own
registry and serves it on ``/metrics``.

Names follow Prometheus conventions: base units (seconds), ``_total`` on counters, and labels
with a small, bounded set of values (no UETRs, no account ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

Kind = Literal["counter", "gauge", "histogram"]
T = TypeVar("T")

# A payment crosses ~5 processing hops of a few ms each; the SLO sits in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# A transaction commit costs a few ms of broker and client work.
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Queued payments wait for liquidity up to the PvP deadline (minutes).
WAIT_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# A restore replays a compacted changelog: sub-second for a small one, minutes for a large one.
RESTORE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric as scraped: ``name`` is the exported family name (counters end in ``_total``)."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def series(self) -> tuple[str, ...]:
        """The sample names a scrape shows, which queries may reference."""
        # prometheus_client also exports each counter's and histogram's creation time as *_created.
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count", f"{self.name}_created")
        if self.kind == "counter":
            return (self.name, f"{self.name.removesuffix('_total')}_created")
        return (self.name,)


STAGE_RECORDS = MetricSpec("router_stage_records_total", "counter", "records processed by a stage", ("stage",))
STAGE_TRANSACTIONS = MetricSpec("router_stage_transactions_total", "counter",
                                "Kafka transactions committed by a stage", ("stage",))
STAGE_COMMIT_SECONDS = MetricSpec("router_stage_commit_seconds", "histogram",
                                  "time to commit one stage transaction (outputs, state and offsets)",
                                  ("stage",), COMMIT_BUCKETS)
STAGE_TASKS = MetricSpec("router_stage_tasks", "gauge", "partitions a stage owns and has restored", ("stage",))
RESTORE_SECONDS = MetricSpec("router_stage_restore_seconds", "histogram",
                             "time to restore a stage's state from its changelogs after an assignment",
                             ("stage",), RESTORE_BUCKETS)
CONSUMER_LAG = MetricSpec("router_consumer_lag", "gauge",
                          "records behind the end of an input partition (high watermark - position)",
                          ("group", "topic", "partition"))
PAYMENTS = MetricSpec("router_payments_total", "counter",
                      "payments that reached an outcome (settled, rejected, returned, cancelled: the tracker's "
                      "words); reason is the ISO 20022 reason code, empty if none", ("outcome", "reason"))
PAYMENT_E2E_SECONDS = MetricSpec("router_payment_e2e_seconds", "histogram",
                                 "from a payment's arrival on cips.in/corr.in to its first outcome (settled and "
                                 "delivered, or rejected/cancelled); direction cips_to_corr or corr_to_cips",
                                 ("direction",), LATENCY_BUCKETS)
SCREENING_DECISIONS = MetricSpec("router_screening_decisions_total", "counter",
                                 "screening decisions by verdict and by who decided (rules or an analyst)",
                                 ("decision", "by"))
SCREENING_HOLDS = MetricSpec("router_screening_holds", "gauge", "payments held, waiting for an analyst")
LIQUIDITY_QUEUE_DEPTH = MetricSpec("router_liquidity_queue_depth", "gauge",
                                   "settlement legs queued for liquidity", ("currency",))
LIQUIDITY_QUEUE_WAIT_SECONDS = MetricSpec("router_liquidity_queue_wait_seconds", "histogram",
                                          "time a leg waited in the liquidity queue before it reserved or aborted",
                                          ("currency",), WAIT_BUCKETS)
SETTLEMENTS_OVERDUE = MetricSpec("router_settlements_overdue", "gauge",
                                 "settlements still undecided after their PvP deadline (should be 0)")
FX_QUOTE_AGE_SECONDS = MetricSpec("router_fx_quote_age_seconds", "gauge",
                                  "age of the newest quote held for a currency pair", ("pair", "provider"))
DLQ_RECORDS = MetricSpec("router_dlq_records_total", "counter",
                         "records sent to router.dlq, by reason code and stage", ("reason", "stage"))
LEDGER_CHECK_OK = MetricSpec("router_ledger_check_ok", "gauge",
                             "1 if the last ledger check passed every invariant, 0 if it found a violation")
LEDGER_CHECK_VIOLATIONS = MetricSpec("router_ledger_check_violations", "gauge",
                                     "violations found by the last ledger check")
LEDGER_CHECK_TIMESTAMP = MetricSpec("router_ledger_check_timestamp_seconds", "gauge",
                                    "when the last ledger check finished (Unix time)")

METRICS: tuple[MetricSpec, ...] = (
    STAGE_RECORDS, STAGE_TRANSACTIONS, STAGE_COMMIT_SECONDS, STAGE_TASKS, RESTORE_SECONDS, CONSUMER_LAG,
    PAYMENTS, PAYMENT_E2E_SECONDS, SCREENING_DECISIONS, SCREENING_HOLDS, LIQUIDITY_QUEUE_DEPTH,
    LIQUIDITY_QUEUE_WAIT_SECONDS, SETTLEMENTS_OVERDUE, FX_QUOTE_AGE_SECONDS, DLQ_RECORDS,
    LEDGER_CHECK_OK, LEDGER_CHECK_VIOLATIONS, LEDGER_CHECK_TIMESTAMP,
)

# Series a scrape adds beyond the router's own: Prometheus' per-target `up`, and the
# kube-state-metrics series the alerts use for deployment health.
EXTERNAL_SERIES: frozenset[str] = frozenset({
    "up", "kube_statefulset_status_replicas_ready", "kube_statefulset_replicas",
})


def exported_series() -> frozenset[str]:
    """Every sample name a query over the router's scrapes may use."""
    return frozenset(s for m in METRICS for s in m.series()) | EXTERNAL_SERIES


def _instrument(spec: MetricSpec, registry: CollectorRegistry) -> Counter | Gauge | Histogram:
    if spec.kind == "counter":
        # prometheus_client appends _total itself.
        return Counter(spec.name.removesuffix("_total"), spec.help, spec.labels, registry=registry)
    if spec.kind == "gauge":
        return Gauge(spec.name, spec.help, spec.labels, registry=registry)
    return Histogram(spec.name, spec.help, spec.labels, registry=registry, buckets=spec.buckets)


class RouterMetrics:
    """One process's instruments, on its own registry (tests build several in one process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        made = {spec.name: _instrument(spec, self.registry) for spec in METRICS}
        self.stage_records: Counter = _as(Counter, made[STAGE_RECORDS.name])
        self.stage_transactions: Counter = _as(Counter, made[STAGE_TRANSACTIONS.name])
        self.stage_commit_seconds: Histogram = _as(Histogram, made[STAGE_COMMIT_SECONDS.name])
        self.stage_tasks: Gauge = _as(Gauge, made[STAGE_TASKS.name])
        self.restore_seconds: Histogram = _as(Histogram, made[RESTORE_SECONDS.name])
        self.consumer_lag: Gauge = _as(Gauge, made[CONSUMER_LAG.name])
        self.payments: Counter = _as(Counter, made[PAYMENTS.name])
        self.payment_e2e_seconds: Histogram = _as(Histogram, made[PAYMENT_E2E_SECONDS.name])
        self.screening_decisions: Counter = _as(Counter, made[SCREENING_DECISIONS.name])
        self.screening_holds: Gauge = _as(Gauge, made[SCREENING_HOLDS.name])
        self.liquidity_queue_depth: Gauge = _as(Gauge, made[LIQUIDITY_QUEUE_DEPTH.name])
        self.liquidity_queue_wait_seconds: Histogram = _as(Histogram, made[LIQUIDITY_QUEUE_WAIT_SECONDS.name])
        self.settlements_overdue: Gauge = _as(Gauge, made[SETTLEMENTS_OVERDUE.name])
        self.fx_quote_age_seconds: Gauge = _as(Gauge, made[FX_QUOTE_AGE_SECONDS.name])
        self.dlq_records: Counter = _as(Counter, made[DLQ_RECORDS.name])
        self.ledger_check_ok: Gauge = _as(Gauge, made[LEDGER_CHECK_OK.name])
        self.ledger_check_violations: Gauge = _as(Gauge, made[LEDGER_CHECK_VIOLATIONS.name])
        self.ledger_check_timestamp: Gauge = _as(Gauge, made[LEDGER_CHECK_TIMESTAMP.name])


class StageStatsSync:
    """Feeds a processor's running totals (``stats["records"]``, ``stats["transactions"]``) into the
    stage counters at scrape time, so the processor itself needs no metrics code."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self.metrics = metrics
        self.seen: dict[tuple[str, str], int] = {}

    def __call__(self, stage: str, stats: Mapping[str, int], tasks: int) -> None:
        for key, counter in (("records", self.metrics.stage_records),
                             ("transactions", self.metrics.stage_transactions)):
            now, before = stats.get(key, 0), self.seen.get((stage, key), 0)
            # A counter only goes up; a restarted processor starts its totals again from 0.
            counter.labels(stage).inc(now - before if now >= before else now)
            self.seen[(stage, key)] = now
        self.metrics.stage_tasks.labels(stage).set(tasks)


def _as(kind: type[T], obj: object) -> T:
    if not isinstance(obj, kind):
        raise TypeError(f"{obj!r} is not a {kind.__name__}")
    return obj


def ledger_check_registry(*, ok: bool, violations: int, at: float) -> CollectorRegistry:
    """The ledger check's verdict alone, for a batch job to push (no other metric at a default value)."""
    registry = CollectorRegistry()
    for spec, value in ((LEDGER_CHECK_OK, 1.0 if ok else 0.0), (LEDGER_CHECK_VIOLATIONS, float(violations)),
                        (LEDGER_CHECK_TIMESTAMP, at)):
        Gauge(spec.name, spec.help, registry=registry).set(value)
    return registry
