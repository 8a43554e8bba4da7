"""Kafka wiring of the review page: feed the case book, publish analyst decisions and audit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from router.config import Settings
from router.kafka_clients import client_options
from router.screening.cases import AnalystDecision, Case, audit_for_analyst, audit_for_proposal
from router.topics import topic_name
from router.web.casebook import CaseBook

log = logging.getLogger(__name__)


class DecisionSink(Protocol):
    async def publish(self, decision: AnalystDecision) -> None: ...

    async def propose(self, case: Case) -> None: ...


class BackgroundFeed:
    """What a page's topic reader shares: a consumer, the task reading it, ``ready`` once it has
    caught up, and a ``stop`` that ends both."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.ready = asyncio.Event()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


class CaseFeed(BackgroundFeed):
    """Reads ``screening.cases`` and ``screening.decisions`` from the start into a ``CaseBook``.

    No consumer group: every review server shows every open case, and a restart rebuilds the
    book from the topics (cases are kept 7 days; a case older than that has long escalated).
    """

    def __init__(self, settings: Settings, book: CaseBook) -> None:
        super().__init__()
        self.settings = settings
        self.book = book
        prefix = settings.kafka.topic_prefix
        self.cases_topic = topic_name("screening.cases", prefix)
        self.decisions_topic = topic_name("screening.decisions", prefix)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.cases_topic, self.decisions_topic, **client_options(self.settings.kafka), group_id=None,
            auto_offset_reset="earliest", enable_auto_commit=False, isolation_level="read_committed",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="review-case-feed")

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=200)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker hiccup must not kill the page; aiokafka reconnects
                log.exception("case feed read failed; retrying")
                await asyncio.sleep(1.0)
                continue
            for tp, records in batch.items():
                for r in records:
                    value = r.value if isinstance(r.value, bytes) else b""
                    if tp.topic == self.cases_topic:
                        self.book.apply_case(value)
                    else:
                        self.book.apply_decision(value)
            self.ready.set()


class KafkaDecisionSink:
    """Publishes a decision to ``screening.decisions``, a release proposal (the case again, with
    its proposal) to ``screening.cases``, and the audit record of each to ``screening.audit``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        prefix = settings.kafka.topic_prefix
        self.decisions_topic = topic_name("screening.decisions", prefix)
        self.cases_topic = topic_name("screening.cases", prefix)
        self.audit_topic = topic_name("screening.audit", prefix)
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(**client_options(self.settings.kafka), acks="all",
                                          enable_idempotence=True)
        await self._producer.start()

    async def publish(self, decision: AnalystDecision) -> None:
        if self._producer is None:
            raise RuntimeError("decision sink not started")
        key = decision.uetr.encode()
        await self._producer.send_and_wait(self.decisions_topic, decision.to_bytes(), key=key)
        await self._producer.send_and_wait(self.audit_topic, audit_for_analyst(decision).to_bytes(), key=key)

    async def propose(self, case: Case) -> None:
        if self._producer is None:
            raise RuntimeError("decision sink not started")
        key = case.uetr.encode()
        await self._producer.send_and_wait(self.cases_topic, case.to_bytes(), key=key)
        await self._producer.send_and_wait(self.audit_topic, audit_for_proposal(case).to_bytes(), key=key)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
