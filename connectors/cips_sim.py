"""CIPS / e-CNY network simulator: Chinese participant banks sending payments to the router in
the CIPS profile (``cips.in``) and reading what the router sends back (``cips.out``).

Generation is pure and seeded (``CipsTraffic``); ``CipsSimulator`` wires it to Kafka and keeps
what the demo reports: when each payment left, what status came back, and when.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from connectors import logistics_sim as logistics
from connectors.population import (
    CIPS_PURPOSES,
    SANCTIONED_CREDITORS,
    SANCTIONED_DEBTORS,
    chinese_customer,
    cny_amount,
    correspondent,
    foreign_customer,
    partner_of,
)
from router import headers
from router.config import Settings
from router.ingest import ingest
from router.iso20022.build import build_message
from router.iso20022.directory import Directory, Participant
from router.iso20022.inbound import extract
from router.iso20022.model import Agent, CancellationRequest, Header, OriginalRef, Payment, StatusReport
from router.iso20022.translate import CIPS_BIZ_SVC
from router.kafka_clients import client_options
from router.outcome import Ok
from router.topics import topic_name

Profile = Literal["steady", "singles-day", "red-packets"]


@dataclass(frozen=True, slots=True)
class Planned:
    payment: Payment
    at: float  # seconds after the start
    wallet_tier: int | None = None


class CipsTraffic:
    """Seeded CIPS-side payments: participants, e-CNY wallets of every tier, Chinese names."""

    def __init__(self, directory: Directory, settings: Settings, seed: int) -> None:
        self.d = directory
        self.s = settings
        self.rng = random.Random(seed)
        self.correspondents = [c for c in directory.correspondents]
        self.router = settings.router_bic
        self.counter = 0

    def payment(self, *, tiny: bool = False, wallet: bool | None = None, creditor_name: str | None = None,
                debtor_name: str | None = None, amount: Decimal | None = None, kind: str | None = None,
                to: Participant | None = None) -> tuple[Payment, int | None]:
        rng = self.rng
        self.counter += 1
        payer = chinese_customer(self.d, rng, wallet=True if tiny else wallet)
        partner = partner_of(payer.bank.bic, rng) if to is None else None
        bank = to or next((c for c in self.correspondents if c.bic[:8] == partner), None) \
            or correspondent(self.correspondents, rng, paying=False)
        payee = foreign_customer(bank, rng)
        kind = kind or ("pacs.009" if rng.random() < self.s.sim.pacs009_share and not tiny else "pacs.008")
        value = amount or cny_amount(rng, tiny=tiny)
        limit = self.s.screening.wallet_tiers.get(payer.wallet_tier or 0)
        if amount is None and limit is not None and limit.per_payment is not None and value > limit.per_payment \
                and rng.random() > self.s.sim.wallet_over_limit_p:
            # Wallet holders mostly pay within their category's limit; a few try more.
            value = (limit.per_payment * Decimal(rng.randint(5, 90)) / 100).quantize(Decimal("0.01"))
        uetr = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        now = datetime.now(UTC)
        msg_id = f"CIPS{now:%Y%m%d}{payer.bank.cips_id}{self.counter:07d}"[:35]
        sender = Agent(cips_id=payer.bank.cips_id)
        debtor = payer.party if debtor_name is None else payer.party.model_copy(update={"name": debtor_name})
        creditor = payee.party if creditor_name is None else payee.party.model_copy(update={"name": creditor_name})
        p = Payment(
            kind=kind,
            header=Header(sender=sender, receiver=Agent(bic=self.router), biz_msg_id=msg_id,
                          msg_def_id=f"{kind}.001.08", biz_svc=CIPS_BIZ_SVC, created=now),
            msg_id=msg_id, created=now, instr_id=f"I{payer.bank.cips_id}{self.counter:09d}",
            end_to_end_id=f"E2E{now:%Y%m%d}{self.counter:08d}", uetr=uetr,
            settlement_amount=value, currency="CNY", settlement_date=now.date(),
            settlement_method="CLRG", clearing_system="CIPS",
            charge_bearer="SHAR" if kind == "pacs.008" else None,
            purpose=rng.choice(CIPS_PURPOSES) if not tiny else "CCSH",
            instructing_agent=sender, instructed_agent=Agent(bic=self.router),
            debtor=debtor if kind == "pacs.008" else None,
            debtor_account=payer.account if kind == "pacs.008" else None,
            debtor_agent=sender, creditor_agent=Agent(bic=bank.bic),
            creditor=creditor if kind == "pacs.008" else None,
            creditor_account=payee.account if kind == "pacs.008" else None,
            remittance=("红包" if tiny else f"发票 INV-{now:%Y}-{self.counter:05d}",),
        )
        return p, payer.wallet_tier if payer.account.kind == "ecny" else None

    def plan(self, n: int, profile: Profile, rate: float) -> Iterator[Planned]:
        """When each payment is sent: a steady rate; a 10x step in the middle third (Singles
        Day); or a burst of many tiny wallet red packets in the middle third (Lunar New Year)."""
        t = 0.0
        for i in range(n):
            surge = n / 3 <= i < 2 * n / 3
            r = rate * (10 if surge and profile != "steady" else 1)
            hit = self.rng.random() < self.s.sim.sanctioned_p
            p, tier = self.payment(
                tiny=surge and profile == "red-packets",
                creditor_name=self.rng.choice(SANCTIONED_CREDITORS) if hit and self.rng.random() < 0.5 else None,
                debtor_name=self.rng.choice(SANCTIONED_DEBTORS) if hit and self.rng.random() < 0.5 else None)
            yield Planned(p, t, tier)
            t += 1.0 / r

    def cancellation(self, p: Payment, reason: str = "DUPL") -> CancellationRequest:
        now = datetime.now(UTC)
        ident = f"CXL{p.msg_id}"[:35]
        sender = p.debtor_agent
        return CancellationRequest(
            header=Header(sender=sender, receiver=Agent(bic=self.router), biz_msg_id=ident,
                          msg_def_id="camt.056.001.08", biz_svc=CIPS_BIZ_SVC, created=now),
            assignment_id=ident, created=now, assigner=sender, assignee=Agent(bic=self.router),
            original=OriginalRef(msg_id=p.msg_id, msg_def_id=f"{p.kind}.001.08", instr_id=p.instr_id,
                                 end_to_end_id=p.end_to_end_id, uetr=p.uetr, amount=p.settlement_amount,
                                 currency=p.currency, settlement_date=p.settlement_date),
            reason_code=reason)

    def ack(self, p: Payment) -> StatusReport:
        """A receiving participant's ACSC for an inbound payment the router delivered."""
        now = datetime.now(UTC)
        receiver = p.creditor_agent
        ident = f"ACK{p.msg_id}"[:35]
        return StatusReport(
            header=Header(sender=receiver, receiver=Agent(bic=self.router), biz_msg_id=ident,
                          msg_def_id="pacs.002.001.10", biz_svc=CIPS_BIZ_SVC, created=now),
            msg_id=ident, created=now, status="ACSC",
            original=OriginalRef(msg_id=p.msg_id, msg_def_id=f"{p.kind}.001.08", instr_id=p.instr_id,
                                 end_to_end_id=p.end_to_end_id, uetr=p.uetr, amount=p.settlement_amount,
                                 currency=p.currency, settlement_date=p.settlement_date),
            instructing_agent=receiver, instructed_agent=Agent(bic=self.router))


@dataclass
class Observed:
    """What the CIPS side saw, per UETR."""

    sent_at: dict[str, float] = field(default_factory=dict)
    final_at: dict[str, float] = field(default_factory=dict)
    final_status: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    received: dict[str, int] = field(default_factory=dict)  # message type -> count
    inbound_delivered: set[str] = field(default_factory=set)


async def read_messages(settings: Settings, topic: str, group: str, *, skip: tuple[str, ...] = ("camt.054",),
                        counts: dict[str, int] | None = None) -> AsyncIterator[tuple[bytes, object]]:
    """Records of ``topic`` as (key, canonical message); what cannot be read is skipped, and so
    (counted, not parsed) are message types in ``skip``, by their ``iso.message`` header."""
    consumer = AIOKafkaConsumer(topic_name(topic, settings.kafka.topic_prefix), **client_options(settings.kafka),
                                group_id=group, auto_offset_reset="earliest", isolation_level="read_committed",
                                fetch_max_wait_ms=50)
    await consumer.start()
    try:
        async for record in consumer:
            kind = next((bytes(v).decode() for k, v in record.headers or () if k == headers.ISO_MESSAGE), "")
            if kind.startswith(skip):
                if counts is not None:
                    counts[kind[:8]] = counts.get(kind[:8], 0) + 1
                continue
            result = ingest(record.value or b"", max_bytes=settings.ingest.max_message_bytes)
            if not isinstance(result, Ok):
                continue
            msg = extract(result.value.identified)
            if isinstance(msg, Ok):
                yield record.key or b"", msg.value
    finally:
        await consumer.stop()


class CipsSimulator:
    def __init__(self, settings: Settings, directory: Directory, *, seed: int | None = None) -> None:
        self.s = settings
        self.traffic = CipsTraffic(directory, settings, settings.sim.seed if seed is None else seed)
        self.seen = Observed()
        self.sent: dict[str, Payment] = {}
        self.conditional: set[str] = set()  # UETRs of conditional (programmable) payments sent
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(**client_options(self.s.kafka), acks="all", linger_ms=5,
                                         enable_idempotence=True)
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, msg: Payment | CancellationRequest | StatusReport, key: str) -> None:
        assert self.producer is not None
        await self.producer.send(topic_name("cips.in", self.s.kafka.topic_prefix), build_message(msg, "cips"),
                                 key=key.encode())
        if isinstance(msg, Payment):
            self.sent[msg.uetr] = msg
            self.seen.sent_at[msg.uetr] = time.monotonic()

    async def run(self, n: int, profile: Profile, rate: float | None = None) -> None:
        """Send ``n`` payments paced by ``profile``; some are cancelled by their sender soon after,
        some are conditional trade payments whose delivery a logistics party confirms (or not)."""
        start = time.monotonic()
        rng = random.Random(self.s.sim.seed + 1)
        cancels: list[Payment] = []
        deliveries: list[asyncio.Task[None]] = []
        sim = self.s.sim
        for planned in self.traffic.plan(n, profile, rate or sim.rate_per_s):
            delay = start + planned.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            p = planned.payment
            if p.kind == "pacs.008" and rng.random() < sim.conditional_share:
                p = logistics.make_conditional(p, sim.condition_expiry_s, len(self.conditional) + 1)
                self.conditional.add(p.uetr)
                if rng.random() < sim.condition_met_p:
                    deliveries.append(asyncio.create_task(self._confirm_delivery(p, sim.condition_delay_s)))
            await self.send(p, p.uetr)
            if rng.random() < sim.cips_cancel_p:
                cancels.append(p)
        assert self.producer is not None
        await self.producer.flush()
        await asyncio.gather(*deliveries)
        for p in cancels:
            await self.send(self.traffic.cancellation(p), p.uetr)
        await self.producer.flush()

    async def _confirm_delivery(self, p: Payment, after_s: float) -> None:
        await asyncio.sleep(after_s)
        assert self.producer is not None
        await self.producer.send(topic_name("conditions.events", self.s.kafka.topic_prefix),
                                 logistics.delivery_event(p, self.s.sim.seed), key=p.uetr.encode())

    async def listen(self, group: str) -> None:
        """Record every status the router sends back; acknowledge inbound payments."""
        async for key, msg in read_messages(self.s, "cips.out", group, counts=self.seen.received):
            kind = getattr(msg, "kind", "?")
            self.seen.received[kind] = self.seen.received.get(kind, 0) + 1
            if isinstance(msg, StatusReport) and msg.original.uetr in self.sent:
                uetr = msg.original.uetr
                if msg.status == "PDNG":
                    self.seen.pending.add(uetr)
                elif msg.status in ("ACSC", "RJCT") and uetr not in self.seen.final_at:
                    self.seen.final_at[uetr] = time.monotonic()
                    self.seen.final_status[uetr] = msg.status
                    if msg.reason_code:
                        self.seen.reasons[uetr] = msg.reason_code
            elif isinstance(msg, Payment) and msg.uetr not in self.seen.inbound_delivered:
                self.seen.inbound_delivered.add(msg.uetr)
                await self.send(self.traffic.ack(msg), msg.uetr)
            _ = key
