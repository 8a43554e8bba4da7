"""Correspondent bank simulators: foreign banks that speak CBPR+ (SWIFT envelope) on ``corr.in``
and ``corr.out``.

Each bank answers the payments the router delivers to it (pacs.002 ACSC, or RJCT with a reason;
sometimes late), sometimes returns funds later (pacs.004), answers forwarded cancellations
(camt.029, followed by the return when it agrees) and originates payments to China. Every choice
comes from a seeded RNG and the probabilities in ``settings.sim``, so runs are reproducible.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from connectors.cips_sim import read_messages
from connectors.population import chinese_customer, correspondent, foreign_customer, partner_of
from router.config import Settings
from router.iso20022.build import build_message
from router.iso20022.directory import Directory, Participant
from router.iso20022.model import (
    Agent,
    CancellationRequest,
    CanonicalMessage,
    Header,
    OriginalRef,
    Party,
    Payment,
    Resolution,
    Return,
    StatusReport,
)
from router.iso20022.translate import CBPR_BIZ_SVC
from router.kafka_clients import client_options
from router.topics import topic_name

REJECT_REASONS = ("AC04", "AC01", "AG01", "RR03")  # closed / incorrect account, forbidden, missing name
RETURN_REASONS = ("AC04", "MD06", "CUST")


def _ref(p: Payment) -> OriginalRef:
    return OriginalRef(msg_id=p.msg_id, msg_def_id=f"{p.kind}.001.08", instr_id=p.instr_id,
                       end_to_end_id=p.end_to_end_id, tx_id=p.tx_id, uetr=p.uetr, amount=p.settlement_amount,
                       currency=p.currency, settlement_date=p.settlement_date)


@dataclass
class CorrespondentBanks:
    """The banks' behaviour as pure decisions over a seeded RNG (no Kafka here)."""

    directory: Directory
    settings: Settings
    seed: int
    rng: random.Random = field(init=False)
    counter: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def banks(self) -> tuple[Participant, ...]:
        return self.directory.correspondents

    def _header(self, bank: str, msg_def: str, ident: str, now: datetime) -> Header:
        return Header(sender=Agent(bic=bank), receiver=Agent(bic=self.settings.router_bic), biz_msg_id=ident,
                      msg_def_id=msg_def, biz_svc=CBPR_BIZ_SVC, created=now)

    def _id(self, bank: str, tag: str) -> str:
        self.counter += 1
        return f"{bank[:4]}{tag}{self.counter:010d}"[:35]

    def answer(self, p: Payment) -> tuple[StatusReport, float, Return | None, float]:
        """Status for a delivered payment, its delay, and maybe a later return with its delay."""
        sim = self.settings.sim
        bank = (p.creditor_agent.bic or "UNKNOWN")
        now = datetime.now(UTC)
        ident = self._id(bank, "S")
        reject = self.rng.random() < sim.corr_reject_p
        delay = sim.corr_late_s if self.rng.random() < sim.corr_late_p else 0.0
        status = StatusReport(
            header=self._header(bank, "pacs.002.001.10", ident, now), msg_id=ident, created=now,
            original=_ref(p), status="RJCT" if reject else "ACSC",
            reason_code=self.rng.choice(REJECT_REASONS) if reject else None,
            instructing_agent=Agent(bic=bank), instructed_agent=Agent(bic=self.settings.router_bic))
        ret = None
        if not reject and self.rng.random() < sim.corr_return_p:
            ret = self.return_of(p, self.rng.choice(RETURN_REASONS))
        return status, delay, ret, sim.corr_return_after_s

    def return_of(self, p: Payment, reason: str) -> Return:
        bank = p.creditor_agent.bic or "UNKNOWN"
        now = datetime.now(UTC)
        ident = self._id(bank, "R")
        return Return(header=self._header(bank, "pacs.004.001.09", ident, now), msg_id=ident, created=now,
                      original=_ref(p), rtr_id=ident, returned_amount=p.settlement_amount, currency=p.currency,
                      settlement_date=now.date(), settlement_method="INDA", charge_bearer="SHAR",
                      reason_code=reason, instructing_agent=Agent(bic=bank),
                      instructed_agent=Agent(bic=self.settings.router_bic))

    def resolve(self, c: CancellationRequest) -> tuple[Resolution, bool]:
        bank = c.assignee.bic or "UNKNOWN"
        now = datetime.now(UTC)
        ident = self._id(bank, "C")
        agree = self.rng.random() < self.settings.sim.corr_cancel_accept_p
        res = Resolution(header=self._header(bank, "camt.029.001.09", ident, now), assignment_id=ident,
                         created=now, assigner=Agent(bic=bank), assignee=Agent(bic=self.settings.router_bic),
                         case_id=c.case_id, status="CNCL" if agree else "RJCR", original=c.original)
        return res, agree

    def inbound(self, *, amount: Decimal | None = None, creditor_name: str | None = None) -> Payment:
        """A payment from a correspondent's customer to a Chinese beneficiary, in the bank's currency."""
        rng = self.rng
        bank = correspondent(self.banks, rng, paying=True)
        currency = self.currency_of(bank)
        payer = foreign_customer(bank, rng)
        partner = partner_of(bank.bic, rng)
        payee = chinese_customer(self.directory, rng, bank=self.directory.by_bic(partner) if partner else None)
        now = datetime.now(UTC)
        ident = self._id(bank.bic, "P")
        value = amount or Decimal(str(round(rng.lognormvariate(7.0, 1.2), 2))).quantize(Decimal("0.01"))
        if currency in ("JPY", "KRW"):
            value = value.quantize(Decimal(1))
        name = creditor_name or payee.party.name
        return Payment(
            kind="pacs.008", header=self._header(bank.bic, "pacs.008.001.08", ident, now), msg_id=ident,
            created=now, instr_id=ident[-16:], end_to_end_id=f"E2E{ident}"[:35],
            uetr=str(uuid.UUID(int=rng.getrandbits(128), version=4)), settlement_amount=value,
            currency=currency, settlement_date=now.date(), settlement_method="INDA", charge_bearer="SHAR",
            purpose=rng.choice(("GDDS", "SCVE", "SALA", "TRAD")),
            instructing_agent=Agent(bic=bank.bic), instructed_agent=Agent(bic=self.settings.router_bic),
            debtor=payer.party, debtor_account=payer.account, debtor_agent=Agent(bic=bank.bic),
            creditor_agent=Agent(bic=payee.bank.bic),
            creditor=Party(name=_latin(name), address=payee.party.address.model_copy(
                update={"street": "Nanjing Road", "town": "Shanghai", "post_code": "200001"})
                if payee.party.address else None),
            creditor_account=payee.account, remittance=("INVOICE PAYMENT",))

    @staticmethod
    def currency_of(bank: Participant) -> str:
        currencies = getattr(bank, "currencies", ()) or ("USD",)
        return str(currencies[0])


def _latin(name: str | None) -> str:
    from router.iso20022.transliterate import person_name

    return person_name(name or "UNKNOWN")


class CorrespondentSimulator:
    def __init__(self, settings: Settings, directory: Directory, *, seed: int | None = None) -> None:
        self.s = settings
        self.banks = CorrespondentBanks(directory, settings, (settings.sim.seed if seed is None else seed) + 7)
        self.producer: AIOKafkaProducer | None = None
        self.received: dict[str, int] = {}
        self.returned: set[str] = set()
        self.rejected: set[str] = set()
        self.inbound_sent: dict[str, Payment] = {}
        self.sent_at: dict[str, float] = {}
        self.final_at: dict[str, float] = {}
        self.final_status: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(**client_options(self.s.kafka), acks="all", linger_ms=5,
                                         enable_idempotence=True)
        await self.producer.start()

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, msg: CanonicalMessage, key: str, delay: float = 0.0) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        assert self.producer is not None
        await self.producer.send(topic_name("corr.in", self.s.kafka.topic_prefix),
                                 build_message(msg, "cbpr", wrapper="swift"), key=key.encode())

    def later(self, msg: CanonicalMessage, key: str, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self.send(msg, key, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def originate(self, n: int, rate: float) -> None:
        for _ in range(n):
            p = self.banks.inbound()
            self.inbound_sent[p.uetr] = p
            self.sent_at[p.uetr] = time.monotonic()
            await self.send(p, p.uetr)
            await asyncio.sleep(1.0 / rate)

    async def listen(self, group: str) -> None:
        async for key, msg in read_messages(self.s, "corr.out", group, counts=self.received):
            kind = getattr(msg, "kind", "?")
            self.received[kind] = self.received.get(kind, 0) + 1
            uetr = key.decode()
            if isinstance(msg, StatusReport) and msg.original.uetr in self.inbound_sent:
                if msg.status in ("ACSC", "RJCT") and uetr not in self.final_at:
                    self.final_at[uetr] = time.monotonic()
                    self.final_status[uetr] = msg.status
            elif isinstance(msg, Payment):
                status, delay, ret, after = self.banks.answer(msg)
                if status.status == "RJCT":
                    self.rejected.add(uetr)
                self.later(status, uetr, delay)
                if ret is not None:
                    self.returned.add(uetr)
                    self.later(ret, uetr, delay + after)
            elif isinstance(msg, CancellationRequest):
                res, agree = self.banks.resolve(msg)
                self.later(res, uetr, 0.0)
                if agree and msg.original.amount is not None:
                    original = Payment(
                        msg_id=msg.original.msg_id, created=msg.created, end_to_end_id=msg.original.end_to_end_id
                        or "NOTPROVIDED", uetr=msg.original.uetr or uetr, settlement_amount=msg.original.amount,
                        currency=msg.original.currency or "USD", debtor_agent=Agent(bic=self.s.router_bic),
                        creditor_agent=msg.assignee, instr_id=msg.original.instr_id)
                    self.returned.add(uetr)
                    self.later(self.banks.return_of(original, "CUST"), uetr, 0.2)
