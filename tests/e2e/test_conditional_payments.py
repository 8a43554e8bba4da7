"""End to end on the real broker: programmable (conditional) e-CNY payments.

One deployment (worker + settle-worker, fresh topics) with a releasing party's Ed25519 key in the
corridor settings. A payment whose delivery event arrives settles and is delivered without the
condition; one whose event never comes is released at expiry and rejected TM01; forged and
replayed events land in the DLQ with their reason; the ledger check (which replays the
reservations) closes the module.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.demo import FX_PROVIDERS, demo_balances
from router.config import KafkaSettings, Settings
from router.corridor.conditions import ConditionEvent, public_key_b64, sign
from router.corridor.settings import CorridorSettings
from router.iso20022.model import Condition, Payment
from router.kafka_clients import client_options
from router.procs import settings_env
from router.topics import topic_name
from tests.e2e.test_corridor_paths import (
    DIRECTORY,
    THIN_BALANCES,
    Deployment,
    deployed,
    journey,
    read,
    router_track,
    send,
    stages,
    statuses,
    traffic,
)
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration
LOGISTICS = Ed25519PrivateKey.generate()
MALLORY = Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    s = Settings(
        app_id=f"e2c-{run}", kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"c{run}."),
        web={"port": free_port()},  # type: ignore[arg-type]
        corridor=CorridorSettings(condition_keys={"LOGISTICS1": public_key_b64(LOGISTICS)}),
        settlement=base.settlement.model_copy(update={
            "opening_balances": demo_balances(DIRECTORY, thin=THIN_BALANCES), "fx_providers": FX_PROVIDERS,
            "tick_interval_s": 0.2}),
    )
    yield from deployed(s, tmp_path_factory.mktemp("logs"), "e2c")


def conditional(seed: int, condition_id: str, expiry: datetime) -> Payment:
    p, _ = traffic(seed).payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"),
                                 amount=Decimal("7740.00"))
    return p.model_copy(update={"condition": Condition(id=condition_id, releasing_party="LOGISTICS1",
                                                       expiry=expiry)})


async def publish_event(s: Settings, p: Payment, event_id: str, key: Ed25519PrivateKey = LOGISTICS) -> bytes:
    assert p.condition is not None
    ev = sign(ConditionEvent(event_id=event_id, uetr=p.uetr, condition_id=p.condition.id, party="LOGISTICS1",
                             at=datetime.now(UTC)), key)
    raw = ev.model_dump_json().encode()
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name("conditions.events", s.kafka.topic_prefix), raw, key=p.uetr.encode())
    finally:
        await producer.stop()
    return raw


async def dlq_reasons(s: Settings, uetr: str, want: int, timeout: float = 30.0) -> list[str]:
    consumer = AIOKafkaConsumer(topic_name("router.dlq", s.kafka.topic_prefix), **client_options(s.kafka),
                                group_id=None, auto_offset_reset="earliest", isolation_level="read_committed")
    await consumer.start()
    found: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < want:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [dict(r.headers).get("dlq.reason.text", b"").decode() for r in records
                          if r.key == uetr.encode()]
        return found
    finally:
        await consumer.stop()


async def test_released_payment_settles_and_is_delivered_without_its_condition(deployment: Deployment) -> None:
    s = deployment.settings
    p = conditional(101, "PO-E2E-1", datetime.now(UTC) + timedelta(minutes=10))
    await send(s, "cips", p, p.uetr)
    snap = await read(s, "payments.status", p.uetr,
                      lambda xs: bool(xs) and (xs[-1].get("condition") or {}).get("state") == "held", raw=True)
    assert snap[-1]["condition"]["state"] == "held" and "reserved" in stages(snap[-1])
    pending = await read(s, "cips.out", p.uetr, lambda xs: ("PDNG", None) in statuses(xs))
    assert ("PDNG", None) in statuses(pending)
    # A forged event (signed by someone else's key) moves nothing.
    await publish_event(s, p, "EV-FORGED", key=MALLORY)
    raw_ok = await publish_event(s, p, "EV-1")
    delivered = await read(s, "corr.out", p.uetr, lambda xs: any(isinstance(x, Payment) for x in xs))
    payment = next(x for x in delivered if isinstance(x, Payment))
    assert payment.condition is None and payment.currency == "EUR"
    done = await journey(s, p.uetr, "settled")
    assert done["condition"]["state"] == "met"
    assert stages(done)[:7] == ["received", "screened", "priced", "reserved", "condition-met", "settled",
                                "delivered"]
    # The same event once more: replayed.
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name("conditions.events", s.kafka.topic_prefix), raw_ok,
                                     key=p.uetr.encode())
    finally:
        await producer.stop()
    reasons = await dlq_reasons(s, p.uetr, 2)
    assert sorted(r.split(":")[0] for r in reasons) == ["forged", "replayed"], reasons
    code, out = await router_track(s, p.uetr)
    assert code == 0 and b"condition PO-E2E-1" in out and b"state: met" in out


async def test_condition_never_met_is_released_at_expiry_and_rejected(deployment: Deployment) -> None:
    s = deployment.settings
    p = conditional(102, "PO-E2E-2", datetime.now(UTC) + timedelta(seconds=6))
    await send(s, "cips", p, p.uetr)
    done = await journey(s, p.uetr, "rejected", timeout=40)
    assert done["reason"] == "TM01" and done["condition"]["state"] == "expired"
    back = await read(s, "cips.out", p.uetr, lambda xs: ("RJCT", "TM01") in statuses(xs))
    assert statuses(back) == [("PDNG", None), ("RJCT", "TM01")]


def test_operator_sets_a_net_debit_cap_shown_by_ledger_balances(deployment: Deployment) -> None:
    import json
    import subprocess

    env = settings_env(deployment.settings)
    set_cap = subprocess.run([sys.executable, "-m", "router", "ledger", "cap", "JDHBCNSH", "123.45", "--by", "ops"],
                             env=env, capture_output=True, timeout=60)
    assert set_cap.returncode == 0, set_cap.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = subprocess.run([sys.executable, "-m", "router", "ledger", "balances", "--json"], env=env,
                             capture_output=True, timeout=60)
        rows = {r["account"]: r for r in json.loads(out.stdout)}
        if rows.get("JDHBCNSH/CNY", {}).get("net_debit_cap") == "123.45":
            return
        time.sleep(0.5)
    raise AssertionError(rows.get("JDHBCNSH/CNY"))


def test_zz_ledger_check_covers_the_reservations(deployment: Deployment) -> None:
    from router.ledger_reader import check_ledger

    assert deployment.alive(), deployment.logs()
    report = asyncio.run(check_ledger(deployment.settings, wait_s=2.0))
    assert report.violation_count == 0, report.violations
    assert (report.commits, report.aborts, report.held) == (1, 1, 0)
    assert report.abort_reasons == {"TM01": 1}
