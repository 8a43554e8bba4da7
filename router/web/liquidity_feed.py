"""Kafka wiring of the liquidity view: follow the ledger's changelog and journal into a
``LiquidityBoard``; send operators' fundings and cap changes as ledger commands.

No consumer group: every page reads both topics from the beginning (read_committed, as
``router ledger balances`` does), so a restart rebuilds the same picture. The commands go the
way ``router ledger fund`` / ``router ledger cap`` send them (``router.ledger_reader``), with the
signed-in operator's name in the command; the ledger journals them (FUNDED / CAP_SET with who).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from router.config import Settings
from router.kafka_clients import client_options
from router.ledger_reader import fund, partitions, set_cap
from router.settlement.book import LEDGER_CHANGELOG
from router.settlement.model import Fund, SetCap
from router.topics import topic_name
from router.web.kafka_io import BackgroundFeed
from router.web.liquidity_board import LiquidityBoard

log = logging.getLogger(__name__)


class LiquidityFeed(BackgroundFeed):
    """``ready`` is set once the topics have been read up to where they stood at start."""

    def __init__(self, settings: Settings, board: LiquidityBoard) -> None:
        super().__init__()
        self.settings = settings
        self.board = board
        prefix = settings.kafka.topic_prefix
        self.state_topic = topic_name(LEDGER_CHANGELOG, prefix)
        self.journal_topic = topic_name("settlement.events", prefix)

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(**client_options(self.settings.kafka), group_id=None, enable_auto_commit=False,
                                    isolation_level="read_committed", auto_offset_reset="earliest",
                                    fetch_max_wait_ms=200)
        await consumer.start()
        known = await partitions(consumer, [self.state_topic, self.journal_topic])
        tps = [TopicPartition(t, p) for t, parts in known.items() for p in sorted(parts)]
        if not tps:
            await consumer.stop()
            raise LookupError(f"topics {self.state_topic} and {self.journal_topic} do not exist "
                              "(run `router topics create`)")
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._consumer = consumer
        ends = await consumer.end_offsets(tps)
        self._task = asyncio.create_task(self._run(ends), name="liquidity-feed")

    async def _run(self, ends: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
                for tp, records in batch.items():
                    for r in records:
                        if tp.topic == self.state_topic:
                            self.board.apply_state(r.key, r.value)
                        else:
                            self.board.apply_journal(r.value)
                if not self.ready.is_set():
                    positions = [await self._consumer.position(tp) for tp in ends]
                    if all(pos >= end for pos, end in zip(positions, ends.values(), strict=True)):
                        self.ready.set()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker hiccup must not kill the page; aiokafka reconnects
                log.exception("liquidity feed read failed; retrying")
                await asyncio.sleep(1.0)


class KafkaLedgerCommands:
    """The operator's commands, on ``settlement.requests`` like the CLI's."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def fund(self, account: str, amount: Decimal, currency: str, command_id: str, by: str) -> Fund:
        return await fund(self.settings, account, amount, currency, command_id, by=by)

    async def set_cap(self, participant: str, amount: Decimal | None, command_id: str, by: str) -> SetCap:
        return await set_cap(self.settings, participant, amount, by, command_id)
