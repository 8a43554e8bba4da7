"""The topic contract, declared once.

Names, partition counts, keys and retention/compaction for every topic the router reads or
writes. ``router topics create`` creates them and ``deploy/`` manifests are checked against this
table (tests/unit/test_deploy_manifests.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000
KAFKA_DEFAULT_SEGMENT_MS = 7 * DAY_MS  # the broker's log.roll.hours=168


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    key: str
    content: str
    partitions: int = 4
    compacted: bool = False
    retention_ms: int | None = 7 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)

    def kafka_config(self) -> dict[str, str]:
        cfg = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_ms is not None and not self.compacted:
            cfg["retention.ms"] = str(self.retention_ms)
        cfg.update(self.config)
        return cfg


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("cips.in", "UETR", "ISO 20022 XML from the CIPS / e-CNY side"),
    TopicSpec("cips.out", "UETR", "ISO 20022 XML to the CIPS / e-CNY side"),
    TopicSpec("corr.in", "UETR", "ISO 20022 XML from correspondent banks"),
    TopicSpec("corr.out", "UETR", "ISO 20022 XML to correspondents; header 'receiver-bic'"),
    TopicSpec("fx.rates", "PAIR|PROVIDER", "FX quotes (JSON), one per pair and provider", partitions=1,
              compacted=True),
    TopicSpec("screening.requests", "debtor", "what screening sees of each payment (JSON ScreeningRequest)"),
    TopicSpec("screening.results", "UETR", "screening verdicts: clear / hold / reject with reason (JSON)"),
    TopicSpec("screening.velocity", "debtor", "screening changelog: each debtor's recent payments", compacted=True),
    TopicSpec("screening.cases", "UETR", "payments held for compliance review"),
    TopicSpec("screening.decisions", "UETR", "analyst decisions on held payments"),
    TopicSpec("screening.audit", "UETR", "every screening decision, automatic or human", retention_ms=365 * DAY_MS),
    # The ledger: one partition per ledger shard (today one shard, which owns every account, so a
    # PvP books both legs in one step). Requests roll segments daily so that a request's replay
    # horizon (retention + one segment) is known: settlement receipts may go after it.
    TopicSpec("settlement.requests", "settlement id (UETR), or fund id",
              "PvP settlement requests and external fundings (JSON)", partitions=1,
              config={"segment.ms": str(DAY_MS)}),
    # The journal is the ledger's own evidence (openings, fundings, one BOOKED record per settlement
    # with both legs' postings): `router ledger check` replays it, so it is never deleted.
    TopicSpec("settlement.events", "settlement id or account id",
              "ledger journal: OPENED, FUNDED, BOOKED (decision + postings), in booking order", partitions=1,
              retention_ms=None, config={"retention.ms": "-1"}),
    TopicSpec("settlement.outcomes", "UETR", "settlement outcomes: COMMIT/ABORT/DUPLICATE/PENDING (JSON)"),
    TopicSpec("settlement.ledger.state", "acct|id, sid|id, fund|id", "ledger changelog: accounts, receipts, "
              "fundings", partitions=1, compacted=True,
              config={"segment.ms": str(3600 * 1000)}),  # roll hourly so compaction keeps restores short
    # Keyed by UETR like every payment event, so that an event meets its payment in one task.
    TopicSpec("conditions.events", "UETR", "signed condition events releasing programmable payments (JSON)"),
    TopicSpec("payments.status", "UETR", "payment tracker state", compacted=True),
    TopicSpec("corridor.state", "UETR", "corridor orchestrator changelog: each payment's state", compacted=True),
    TopicSpec("router.dlq", "original key", "unprocessable inputs: original bytes + reason headers",
              retention_ms=30 * DAY_MS),
    # Written in the same transaction as each replayed record; outlives the DLQ's replay horizon
    # (30 days + a segment), so a dead letter still readable is never replayed twice.
    TopicSpec("router.dlq.replays", "dlq position <- source position", "replay markers of `router dlq replay` "
              "(JSON)", partitions=1, retention_ms=60 * DAY_MS),
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}


def topic_name(name: str, prefix: str = "") -> str:
    """The physical topic name: the declared name behind an optional deployment prefix."""
    if name not in BY_NAME:
        raise KeyError(f"undeclared topic {name!r}; declare it in router/topics.py")
    return f"{prefix}{name}"


def replay_horizon_ms(name: str) -> int:
    """How long after it was written a record of a delete-policy topic can still be read.

    Kafka deletes whole segments, and only once a segment's newest record is older than
    retention.ms; the active segment rolls after segment.ms. So a record can outlive
    retention.ms by up to segment.ms.
    """
    spec = BY_NAME[name]
    if spec.compacted or spec.retention_ms is None:
        raise ValueError(f"{name} keeps its records without a time limit")
    return spec.retention_ms + int(spec.config.get("segment.ms", KAFKA_DEFAULT_SEGMENT_MS))
