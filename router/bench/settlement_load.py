"""Settlement load: corridor accounts, random PvP requests, worker processes, outcome collection.

Shared by ``router bench settlement`` and the integration / fault tests, so the benchmark
measures exactly the path the tests prove correct. The legs are built by the corridor's own
``router.corridor.legs.forward_legs``, from a CIPS pacs.008 per request, as a live payment's are.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from router.config import Settings
from router.corridor.legs import account, forward_legs
from router.iso20022.directory import Directory, load_directory
from router.iso20022.examples import cips_pacs008
from router.iso20022.model import Agent, Payment
from router.kafka_clients import client_options
from router.procs import RouterProcess, spawn
from router.settlement.model import OUTCOME, Leg, SettlementOutcome, SettlementRequest
from router.settlement.settings import AccountOpening
from router.topics import topic_name

READY = "settlement worker ready"
__all__ = ["READY", "Corridor", "OutcomeCollector", "account", "corridor", "legs_for", "produce_requests",
           "random_requests", "start_worker"]


@dataclass(frozen=True)
class Corridor:
    participants: tuple[str, ...]
    correspondents: dict[str, str]  # owner -> currency
    fx_provider: str
    opening: dict[str, AccountOpening]


def corridor(*, participants: int = 4, participant_cny: Decimal = Decimal("1000000.00"),
             fx_balance: Decimal = Decimal("1000000.00")) -> Corridor:
    parts = tuple(f"CIPSBK{i:02d}" for i in range(participants))
    corrs = {"CORRUS33": "USD", "CORRDEFF": "EUR", "CORRJPJT": "JPY"}
    fx = "FXBANKCN"
    opening: dict[str, AccountOpening] = {}
    for p in parts:
        opening[account(p, "CNY")] = AccountOpening(currency="CNY", amount=participant_cny, owner=p)
    opening[account(fx, "CNY")] = AccountOpening(currency="CNY", amount=Decimal("0.00"), owner=fx)
    for c, ccy in corrs.items():
        fx_amount = fx_balance.quantize(Decimal(1)) if ccy == "JPY" else fx_balance
        opening[account(fx, ccy)] = AccountOpening(currency=ccy, amount=fx_amount, owner=fx)
        opening[account(c, ccy)] = AccountOpening(currency=ccy, amount=Decimal(0), owner=c)
    return Corridor(parts, corrs, fx, opening)


@cache
def _template() -> tuple[Payment, Directory]:
    return cips_pacs008(), load_directory()


def legs_for(*, debtor: str, creditor: str, fx_provider: str, cny_amount: Decimal, foreign_currency: str,
             foreign_amount: Decimal) -> tuple[Leg, ...]:
    """The legs the corridor settles for a CNY pacs.008 from ``debtor`` to ``creditor`` converted by
    ``fx_provider``: the corridor's own ``forward_legs`` on a payment with those agents."""
    template, directory = _template()
    payment = template.model_copy(update={
        "currency": "CNY", "settlement_amount": cny_amount, "instructing_agent": Agent(bic=debtor),
        "debtor_agent": Agent(bic=debtor), "creditor_agent": Agent(bic=creditor)})
    return forward_legs(payment, directory, fx_provider=fx_provider, amount_out=foreign_amount,
                        currency_out=foreign_currency)


def random_requests(c: Corridor, n: int, *, seed: int = 1, max_cny: int = 5000,
                    duplicate_every: int = 0) -> list[SettlementRequest]:
    """``n`` requests; with ``duplicate_every`` k, every k-th is a resend of an earlier one
    (same UETR) and every k-th + 1 reuses an earlier sender MsgId under a new UETR."""
    rng = random.Random(seed)
    out: list[SettlementRequest] = []
    rates = {"USD": Decimal("0.14"), "EUR": Decimal("0.13"), "JPY": Decimal("21")}
    for i in range(n):
        if duplicate_every and out and i % duplicate_every == 0:
            out.append(rng.choice(out))
            continue
        sender = rng.choice(c.participants)
        creditor, ccy = rng.choice(sorted(c.correspondents.items()))
        cny = Decimal(rng.randint(100, max_cny * 100)) / 100
        foreign = (cny * rates[ccy]).quantize(Decimal(1) if ccy == "JPY" else Decimal("0.01"))
        foreign = max(foreign, Decimal(1) if ccy == "JPY" else Decimal("0.01"))
        uetr = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        msg_id = f"M{seed}-{i}"
        if duplicate_every and out and i % duplicate_every == 1:
            prev = rng.choice(out)
            sender, msg_id = prev.sender, prev.msg_id
        legs = legs_for(debtor=sender, creditor=creditor, fx_provider=c.fx_provider, cny_amount=cny,
                        foreign_currency=ccy, foreign_amount=foreign)
        out.append(SettlementRequest(settlement_id=uetr, uetr=uetr, sender=sender, msg_id=msg_id, legs=legs))
    return out


def start_worker(settings: Settings, log: Path, instance: str = "", *, wait: bool = True,
                 timeout: float = 60.0) -> RouterProcess:
    """``router settle-worker`` in a child process; waits for its first 'ready' line."""
    w = spawn(settings, log, "settle-worker", "--instance", instance)
    if wait:
        try:
            w.wait_for(READY, timeout)
        except Exception:
            w.stop()
            raise
    return w


async def produce_requests(settings: Settings, requests: Iterable[SettlementRequest]) -> int:
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all", enable_idempotence=True,
                                linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    n = 0
    try:
        topic = topic_name("settlement.requests", settings.kafka.topic_prefix)
        futures = []
        for r in requests:
            futures.append(await producer.send(topic, r.model_dump_json().encode(), key=r.settlement_id.encode()))
            n += 1
        for f in futures:
            await f
    finally:
        await producer.stop()
    return n


class OutcomeCollector:
    """Follows settlement.outcomes (read_committed) from the beginning."""

    def __init__(self, settings: Settings) -> None:
        self.outcomes: list[SettlementOutcome] = []
        self.timestamps: list[int] = []  # broker timestamps (ms) of each outcome record
        self.finals: dict[str, SettlementOutcome] = {}
        self._consumer = AIOKafkaConsumer(
            topic_name("settlement.outcomes", settings.kafka.topic_prefix), **client_options(settings.kafka),
            group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
            isolation_level="read_committed", fetch_max_wait_ms=50)

    async def __aenter__(self) -> OutcomeCollector:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def until(self, n_final: int, timeout: float) -> bool:
        """Collect until ``n_final`` distinct settlements have a final outcome, or timeout."""
        deadline = time.monotonic() + timeout
        while len(self.finals) < n_final and time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    o = OUTCOME.validate_json(r.value or b"")
                    self.outcomes.append(o)
                    self.timestamps.append(r.timestamp)
                    if o.final:
                        self.finals.setdefault(o.settlement_id, o)
        return len(self.finals) >= n_final

