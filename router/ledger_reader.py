"""Read the settlement topics from the broker (read_committed, from the beginning) for audits."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from pydantic import ValidationError

from router.config import Settings
from router.kafka_clients import client_options
from router.settlement.book import ACCT, CAP, LEDGER_CHANGELOG, Cap, LedgerAccount, decode
from router.settlement.check import LedgerView, Report, check
from router.settlement.model import JOURNAL, LEDGER_INPUT, OUTCOME, Fund, SetCap, SettlementRequest
from router.topics import topic_name

AUDITED = ("settlement.requests", "settlement.events", "settlement.outcomes", LEDGER_CHANGELOG)


async def partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> dict[str, set[int]]:
    """Partition numbers of ``topics`` (empty set for a topic that does not exist)."""
    cluster = await consumer._client.fetch_all_metadata()  # the public API has no metadata call
    return {t: set(cluster.partitions_for_topic(t) or ()) for t in topics}


class LedgerReader:
    """Keeps one read_committed consumer open and folds new records into a ``LedgerView``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.view = LedgerView()
        self.undecodable = 0
        self._names = {topic_name(n, settings.kafka.topic_prefix): n for n in AUDITED}
        self._consumer = AIOKafkaConsumer(**client_options(settings.kafka), group_id=None,
                                          enable_auto_commit=False, isolation_level="read_committed",
                                          auto_offset_reset="earliest", fetch_max_wait_ms=100,
                                          max_partition_fetch_bytes=8 * 1024 * 1024)

    async def __aenter__(self) -> LedgerReader:
        await self._consumer.start()
        known = await partitions(self._consumer, list(self._names))
        tps: list[TopicPartition] = []
        for physical in self._names:
            parts = known[physical]
            if not parts:
                await self._consumer.stop()
                raise LookupError(f"topic {physical} does not exist (run `router topics create`)")
            tps.extend(TopicPartition(physical, p) for p in parts)
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def catch_up(self) -> None:
        """Read every partition up to its last stable offset as of now."""
        tps = list(self._consumer.assignment())
        ends = await self._consumer.end_offsets(tps)
        behind = {tp for tp in tps if await self._consumer.position(tp) < ends[tp]}
        while behind:
            batch = await self._consumer.getmany(*behind, timeout_ms=500, max_records=20000)
            for tp, records in batch.items():
                name = self._names[tp.topic]
                for r in records:
                    self._fold(name, r.key, r.value)
            behind = {tp for tp in behind if await self._consumer.position(tp) < ends[tp]}

    def _fold(self, name: str, key: bytes | None, value: bytes | None) -> None:
        try:
            if name == "settlement.requests":
                item = LEDGER_INPUT.validate_json(value or b"")
                if isinstance(item, Fund):
                    self.view.fundings.append(item)
                elif isinstance(item, SettlementRequest):
                    self.view.requests.append(item)
            elif name == "settlement.events":
                self.view.journal.append(JOURNAL.validate_json(value or b""))
            elif name == "settlement.outcomes":
                self.view.outcomes.append(OUTCOME.validate_json(value or b""))
            elif key is not None and key.startswith(CAP.encode()):
                name = key.decode()[len(CAP):]
                if value is None:
                    self.view.caps.pop(name, None)
                else:
                    cap = decode(key.decode(), value)
                    assert isinstance(cap, Cap)
                    self.view.caps[name] = cap
            elif key is not None and key.startswith(ACCT.encode()):
                acct = key.decode()[len(ACCT):]
                if value is None:
                    self.view.accounts.pop(acct, None)
                else:
                    account = decode(key.decode(), value)
                    assert isinstance(account, LedgerAccount)
                    self.view.accounts[acct] = account
        except (ValidationError, ValueError):
            self.undecodable += 1  # the processor sent these to the DLQ too


async def check_ledger(settings: Settings, *, wait_s: float = 0.0) -> Report:
    """Check the invariants; with ``wait_s``, keep reading until they hold or time runs out."""
    deadline = time.monotonic() + wait_s
    async with LedgerReader(settings) as reader:
        while True:
            await reader.catch_up()
            report = check(reader.view)
            if report.ok or time.monotonic() >= deadline:
                return report
            await asyncio.sleep(0.5)


async def read_balances(settings: Settings) -> dict[str, LedgerAccount]:
    """Every account's state, as the ledger's changelog holds it."""
    async with LedgerReader(settings) as reader:
        await reader.catch_up()
        return dict(sorted(reader.view.accounts.items()))


async def read_caps(settings: Settings) -> dict[str, Decimal]:
    """The net debit caps in force: the settings', overridden by operators' (``SET_CAP``)."""
    async with LedgerReader(settings) as reader:
        await reader.catch_up()
        caps = dict(settings.settlement.net_debit_caps)
        for participant, c in reader.view.caps.items():
            if c.amount is not None:
                caps[participant] = c.amount
        return caps


async def set_cap(settings: Settings, participant: str, amount: Decimal | None, by: str, command_id: str) -> SetCap:
    """Send an operator's net debit cap change (journaled by the ledger as CAP_SET)."""
    cmd = SetCap(command_id=command_id, participant=participant, amount=amount, by=by)
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic_name("settlement.requests", settings.kafka.topic_prefix),
                                     cmd.model_dump_json().encode(), key=command_id.encode(),
                                     headers=[("type", b"SET_CAP")])
    finally:
        await producer.stop()
    return cmd


async def fund(settings: Settings, account: str, amount: Decimal, currency: str, fund_id: str,
               owner: str | None = None, by: str | None = None) -> Fund:
    """Send external liquidity to ``account`` (booked once per ``fund_id``; ``by``: the operator,
    journaled on the FUNDED record)."""
    cmd = Fund.model_validate({"account": account, "fund_id": fund_id, "currency": currency, "amount": amount,
                               "owner": owner, "by": by})
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic_name("settlement.requests", settings.kafka.topic_prefix),
                                     cmd.model_dump_json().encode(), key=fund_id.encode(),
                                     headers=[("type", b"FUND")])
    finally:
        await producer.stop()
    return cmd
