"""End to end on the real broker: the metrics a worker and a settle-worker export move with the
traffic, and the worker's JSON log lines about a payment tell the story ``router track`` tells.

One deployment (fresh uuid-named topics, JSON logs): payments in both directions, one held for
an analyst, one that waits in the liquidity queue and is rejected (AM04), and one unparseable
record. ``/metrics`` of both processes is scraped before, during and after.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from connectors.cips_sim import CipsTraffic
from connectors.demo import FX_PROVIDERS, demo_balances
from router.config import KafkaSettings, Settings
from router.iso20022.build import build_message
from router.iso20022.model import Agent, CanonicalMessage, Payment
from router.kafka_clients import client_options
from router.procs import settings_env
from router.screening.settings import DEMO_LIST
from router.topics import topic_name
from tests.e2e.test_corridor_paths import (
    DIRECTORY,
    THIN,
    THIN_BALANCES,
    Deployment,
    corr_banks,
    deployed,
    journey,
    read,
    statuses,
    traffic,
)
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def observed(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, int]]:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    s = Settings(
        app_id=f"obs-{run}", kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"o{run}."),
        web={"port": free_port()},  # type: ignore[arg-type]
        log_format="json", log_journey="hops",
        screening=base.screening.model_copy(update={"list_paths": (DEMO_LIST,), "list_dir": None}),
        fx=base.fx.model_copy(update={"max_wait_s": 3.0, "retry_interval_s": 0.5}),
        settlement=base.settlement.model_copy(update={
            "opening_balances": demo_balances(DIRECTORY, thin=THIN_BALANCES), "fx_providers": FX_PROVIDERS,
            "liquidity_max_wait_s": 5.0}),
    )
    settle_port = free_port()
    for dep in deployed(s, tmp_path_factory.mktemp("logs"), "obs", settle_web_port=settle_port):
        yield dep, settle_port


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as client:
        for _ in range(100):  # the settle-worker's server may still be starting
            try:
                text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.2)
        else:
            raise TimeoutError(f"no /metrics on port {port}")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over the series whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(ls) for (n, ls) in samples if n == name]


async def send(s: Settings, side: str, message: CanonicalMessage | bytes, key: str) -> tuple[int, int]:
    """Send as a bank would; the record's (partition, offset)."""
    if isinstance(message, bytes):
        value_ = message
    else:
        value_ = build_message(message, "cips") if side == "cips" else build_message(message, "cbpr", wrapper="swift")
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    try:
        md = await producer.send_and_wait(topic_name(f"{side}.in", s.kafka.topic_prefix), value_, key=key.encode())
        return md.partition, md.offset
    finally:
        await producer.stop()


def thin_payment(t: CipsTraffic) -> Payment:
    """A payment from the participant funded with 1,000,000 CNY only, for more than that."""
    p, _ = t.payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"),
                                 amount=Decimal("1500000.00"))
    thin = DIRECTORY.by_bic(THIN)
    assert thin is not None and thin.cips_id
    agent = Agent(cips_id=thin.cips_id)
    return p.model_copy(update={"debtor_agent": agent, "instructing_agent": agent,
                                "header": p.header.model_copy(update={"sender": agent}) if p.header else None})


SENT: dict[str, tuple[int, int]] = {}  # UETR of the first settled payment -> its cips.in (partition, offset)


async def test_metrics_move_with_the_traffic(observed: tuple[Deployment, int]) -> None:
    dep, settle_port = observed
    s = dep.settings
    worker_before = await scrape(s.web.port)
    assert value(worker_before, "router_payments_total") == 0
    restored = value(worker_before, "router_stage_restore_seconds_count", stage="corridor")
    assert restored >= 1, "the corridor's assignment was restored and timed"
    commits_before = value(worker_before, "router_stage_commit_seconds_count", stage="corridor")

    # One generator per side: message ids are unique within a generator, as a bank's are.
    cips, banks = traffic(100), corr_banks(200)
    outbound = [cips.payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"),
                             amount=Decimal("1000.00") + i)[0] for i in range(3)]
    inbound = [banks.inbound(amount=Decimal("300.00") + i) for i in range(2)]
    held, _ = cips.payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("HDSNUS33"),
                           creditor_name="Banco Ficticio del Norte", amount=Decimal("5000.00"))
    queued = thin_payment(cips)
    for p in (*outbound, held, queued):
        SENT[p.uetr] = await send(s, "cips", p, p.uetr)
    for p in inbound:
        SENT[p.uetr] = await send(s, "corr", p, p.uetr)
    await send(s, "cips", b"this is not ISO 20022", str(uuid.uuid4()))

    # While the thin payment waits for liquidity, the settle-worker shows it queued.
    pending = await read(s, "cips.out", queued.uetr, lambda xs: any(st == "PDNG" for st, _ in statuses(xs)))
    assert any(st == "PDNG" for st, _ in statuses(pending))
    settle_during = await scrape(settle_port)
    assert value(settle_during, "router_liquidity_queue_depth", currency="CNY") == 1

    for p in (*outbound, *inbound):
        await journey(s, p.uetr, "settled")
    await journey(s, held.uetr, "held")
    await journey(s, queued.uetr, "rejected")

    worker = await scrape(s.web.port)
    assert value(worker, "router_payments_total", outcome="settled", reason="") == 5
    assert value(worker, "router_payments_total", outcome="rejected", reason="AM04") == 1
    finished = value(worker, "router_payments_total")
    assert finished == 6
    # One end-to-end observation per finished payment, in its direction.
    assert value(worker, "router_payment_e2e_seconds_count") == finished
    assert value(worker, "router_payment_e2e_seconds_count", direction="corr_to_cips") == 2
    assert value(worker, "router_payment_e2e_seconds_count", direction="cips_to_corr") == 4
    assert 0 < value(worker, "router_payment_e2e_seconds_sum") < 6 * 60
    assert value(worker, "router_stage_commit_seconds_count", stage="corridor") > commits_before
    assert value(worker, "router_stage_commit_seconds_count", stage="screening") > 0
    assert value(worker, "router_screening_decisions_total", decision="clear", by="rules") == 6
    assert value(worker, "router_screening_decisions_total", decision="hold", by="rules") == 1
    assert value(worker, "router_screening_holds") == 1
    dlq = series(worker, "router_dlq_records_total")
    assert value(worker, "router_dlq_records_total") >= 1 and all(d["reason"] and d["stage"] for d in dlq), dlq
    lag = series(worker, "router_consumer_lag")
    groups = {d["group"] for d in lag}
    assert {f"{s.app_id}.corridor", f"{s.app_id}.screening"} <= groups, lag
    assert {d["topic"] for d in lag if d["group"] == f"{s.app_id}.corridor"} >= {"cips.in", "corr.in"}
    assert all(v >= 0 for (n, _), v in worker.items() if n == "router_consumer_lag")
    ages = series(worker, "router_fx_quote_age_seconds")
    assert any(a["pair"] == "EUR/CNY" for a in ages), ages
    assert value(worker, "router_stage_records_total", stage="corridor") >= 8

    settle = await scrape(settle_port)
    assert value(settle, "router_liquidity_queue_wait_seconds_count", currency="CNY") == 1
    assert value(settle, "router_liquidity_queue_wait_seconds_sum", currency="CNY") >= 4.0  # waited out 5 s
    assert value(settle, "router_liquidity_queue_depth", currency="CNY") == 0
    assert value(settle, "router_settlements_overdue") == 0
    assert value(settle, "router_stage_commit_seconds_count", stage="settlement") > 0
    assert value(settle, "router_stage_restore_seconds_count", stage="settlement") >= 1
    assert {d["group"] for d in series(settle, "router_consumer_lag")} == {f"{s.app_id}.settlement"}


async def router_track_json(s: Settings, uetr: str) -> dict[str, Any]:
    track = await asyncio.create_subprocess_exec(sys.executable, "-m", "router", "track", uetr, "--json",
                                                 env=settings_env(s), stdout=asyncio.subprocess.PIPE)
    out, _ = await track.communicate()
    assert track.returncode == 0, out
    snap: dict[str, Any] = json.loads(out)
    return snap


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_json_logs_and_router_track_tell_one_story(observed: tuple[Deployment, int]) -> None:
    dep, _ = observed
    s = dep.settings
    assert SENT, "runs after the traffic test"
    uetr, (partition, offset) = next(iter(SENT.items()))
    snap = await router_track_json(s, uetr)
    assert snap["outcome"] == "settled"
    worker_log = dep.procs[0].output()
    lines = json_lines(worker_log)
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    about = [x for x in lines if x.get("uetr") == uetr]
    assert about, worker_log[-3000:]
    # Every line about the payment names the stage and partition, and the record it came from.
    for x in about:
        assert x["stage"] == "corridor" and x["partition"] == partition, x
        assert isinstance(x["offset"], int) and x["offset"] >= 0, x
    received = next(x for x in about if x.get("hop") == "received")
    assert received["offset"] == offset and received["topic"] == topic_name("cips.in", s.kafka.topic_prefix)
    # The same journey, hop by hop, in the same words.
    assert [x["hop"] for x in about if "hop" in x] == [h["stage"] for h in snap["hops"]]
    settled = next(x for x in about if x.get("hop") == "settled")
    assert settled["outcome"] == "settled" and settled["topic"].endswith("settlement.outcomes")
