"""End to end on the real broker: the router's worker and settlement processes, one test per path.

Each test sends ISO 20022 messages as a bank would (CIPS profile on ``cips.in``, CBPR+ in a
SWIFT envelope on ``corr.in``) and checks what the banks receive back and what the tracker says.
The module shares one deployment (fresh uuid-named topics); the ledger check closes it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from connectors.cips_sim import CipsTraffic
from connectors.corr_sim import CorrespondentBanks
from connectors.demo import FX_PROVIDERS, demo_balances
from connectors.fx_feed import day_quotes, latest_ecb_day
from router.config import KafkaSettings, Settings
from router.ingest import ingest
from router.iso20022.build import build_message
from router.iso20022.directory import load_directory
from router.iso20022.inbound import extract
from router.iso20022.model import CanonicalMessage, Payment, StatusReport
from router.kafka_clients import client_options, create_topics, delete_topics_with_prefix
from router.outcome import Ok
from router.procs import RouterProcess, spawn
from router.screening.settings import DEMO_LIST
from router.topics import topic_name
from tests.support.analysts import PASSWORDS, with_analysts
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration
DIRECTORY = load_directory()
THIN = "JDHBCNSH"  # the participant funded with 1,000,000 CNY only
THIN_BALANCES = {f"{THIN}/CNY": Decimal("1000000.00")}  # these tests' one thin account (not the demo's four)
STALE_BANK = "MRLNSGSG"  # SGD quotes are published stale in this module


@dataclass
class Deployment:
    settings: Settings
    procs: list[RouterProcess]

    def alive(self) -> bool:
        return all(p.alive() for p in self.procs)

    def logs(self) -> str:
        return "\n".join(p.output()[-3000:] for p in self.procs)


async def _publish_quotes(s: Settings) -> None:
    day, rates = latest_ecb_day()
    now = datetime.now(UTC)
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    try:
        for provider in FX_PROVIDERS:
            for q in day_quotes(day, rates, ts=now, provider=provider):
                if "SGD" in q.pair:
                    q = q.model_copy(update={"ts": now - timedelta(hours=3)})
                await producer.send(topic_name("fx.rates", s.kafka.topic_prefix), q.to_json().encode(),
                                    key=q.key.encode())
        await producer.flush()
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    s = Settings(
        app_id=f"e2e-{run}", kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"e{run}."),
        web={"port": free_port()},  # type: ignore[arg-type]
        # The fictional list only: the example debtor, 李芳卫, is a real SDN name (LI, Fangwei).
        screening=base.screening.model_copy(update={"list_paths": (DEMO_LIST,), "list_dir": None}),
        fx=base.fx.model_copy(update={"max_wait_s": 3.0, "retry_interval_s": 0.5}),
        settlement=base.settlement.model_copy(update={
            "opening_balances": demo_balances(DIRECTORY, thin=THIN_BALANCES), "fx_providers": FX_PROVIDERS,
            "liquidity_max_wait_s": 3.0}),
    )
    yield from deployed(s, tmp_path_factory.mktemp("logs"), "e2e")


def deployed(s: Settings, logs: Path, instance: str, settle_web_port: int | None = None) -> Iterator[Deployment]:
    """Topics, fresh quotes, a payment worker and a settle-worker on ``s`` (serving its operations
    endpoints on ``settle_web_port``, if given); torn down afterwards. Module fixtures of the e2e
    tests ``yield from`` it."""
    asyncio.run(create_topics(s.kafka))
    asyncio.run(_publish_quotes(s))
    worker = spawn(s, logs / "worker.log", "worker", "--stages", "screening,corridor")
    web = ("--web-port", str(settle_web_port)) if settle_web_port is not None else ()
    settle = spawn(s, logs / "settle.log", "settle-worker", "--instance", instance, *web)
    dep = Deployment(s, [worker, settle])
    try:
        worker.wait_for("Ready", 90)
        yield dep
    finally:
        for p in dep.procs:
            p.stop()
        asyncio.run(delete_topics_with_prefix(s.kafka, (s.kafka.topic_prefix, f"{s.app_id}-")))


async def _wait_healthy(url: str, proc: RouterProcess, timeout: float = 40.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert proc.alive(), proc.output()[-3000:]
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(proc.output()[-3000:])


async def send(s: Settings, side: str, message: CanonicalMessage, key: str) -> None:
    value = build_message(message, "cips") if side == "cips" else build_message(message, "cbpr", wrapper="swift")
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name(f"{side}.in", s.kafka.topic_prefix), value, key=key.encode())
    finally:
        await producer.stop()


async def read(s: Settings, topic: str, key: str, until: Callable[[list[Any]], bool], timeout: float = 45.0,
               raw: bool = False) -> list[Any]:
    """Records of ``topic`` with this key (canonical messages, or JSON for payments.status)."""
    consumer = AIOKafkaConsumer(topic_name(topic, s.kafka.topic_prefix), **client_options(s.kafka), group_id=None,
                                auto_offset_reset="earliest", isolation_level="read_committed")
    await consumer.start()
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(found):
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    if r.key != key.encode():
                        continue
                    if raw:
                        found.append(json.loads(r.value))
                        continue
                    ing = ingest(r.value, max_bytes=1 << 20)
                    assert isinstance(ing, Ok), ing
                    msg = extract(ing.value.identified)
                    assert isinstance(msg, Ok), msg
                    found.append(msg.value)
        return found
    finally:
        await consumer.stop()


async def journey(s: Settings, uetr: str, outcome: str, timeout: float = 45.0) -> dict[str, Any]:
    snaps = await read(s, "payments.status", uetr, lambda xs: bool(xs) and xs[-1]["outcome"] == outcome,
                       timeout=timeout, raw=True)
    assert snaps, f"no tracker record for {uetr}"
    assert snaps[-1]["outcome"] == outcome, [(h["stage"], h.get("reason")) for h in snaps[-1]["hops"]]
    return snaps[-1]


def statuses(msgs: list[Any]) -> list[tuple[str, str | None]]:
    return [(m.status, m.reason_code) for m in msgs if isinstance(m, StatusReport)]


def stages(snap: dict[str, Any]) -> list[str]:
    return [h["stage"] for h in snap["hops"]]


def traffic(seed: int) -> CipsTraffic:
    return CipsTraffic(DIRECTORY, Settings(), seed)


def corr_banks(seed: int) -> CorrespondentBanks:
    return CorrespondentBanks(DIRECTORY, Settings(), seed)


async def test_cips_to_correspondent_happy_path(deployment: Deployment) -> None:
    s = deployment.settings
    p, _ = traffic(1).payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"), amount=Decimal("7740.00"))
    await send(s, "cips", p, p.uetr)
    delivered = await read(s, "corr.out", p.uetr, lambda xs: any(isinstance(x, Payment) for x in xs))
    payment = next(x for x in delivered if isinstance(x, Payment))
    assert payment.currency == "EUR" and payment.instructed_amount == Decimal("7740.00")
    assert payment.uetr == p.uetr and payment.end_to_end_id == p.end_to_end_id and payment.exchange_rate
    assert payment.settlement_method == "INDA" and payment.debtor is not None
    assert payment.debtor.name and payment.debtor.name.isascii(), "Chinese names are transliterated on CBPR+"
    back = await read(s, "cips.out", p.uetr, lambda xs: ("ACSC", None) in statuses(xs))
    assert ("ACSC", None) in statuses(back)
    ack = corr_banks(1).answer(payment)[0].model_copy(update={"status": "ACSC", "reason_code": None})
    await send(s, "corr", ack, p.uetr)
    snap = await read(s, "payments.status", p.uetr, lambda xs: bool(xs) and "acknowledged" in stages(xs[-1]),
                      raw=True)
    assert stages(snap[-1])[:5] == ["received", "screened", "priced", "settled", "delivered"]
    assert snap[-1]["quote"]["currency_out"] == "EUR"
    # "Where is payment UETR X?", asked over HTTP of the worker, and of the CLI.
    import httpx

    async with httpx.AsyncClient() as client:
        answer = (await client.get(f"http://127.0.0.1:{s.web.port}/payments/{p.uetr}")).json()
        missing = await client.get(f"http://127.0.0.1:{s.web.port}/payments/{uuid.uuid4()}")
    assert answer["uetr"] == p.uetr and answer["outcome"] == "settled" and missing.status_code == 404
    assert "acknowledged" in [h["stage"] for h in answer["hops"]]
    code, out = await router_track(s, p.uetr)
    assert code == 0 and b"outcome: settled" in out and b"acknowledged" in out


async def router_track(s: Settings, uetr: str) -> tuple[int | None, bytes]:
    """``router track UETR`` as an operator runs it: exit code and output."""
    from router.procs import settings_env

    track = await asyncio.create_subprocess_exec(sys.executable, "-m", "router", "track", uetr,
                                                 env=settings_env(s), stdout=asyncio.subprocess.PIPE)
    out, _ = await track.communicate()
    return track.returncode, out


async def test_correspondent_to_cips_happy_path(deployment: Deployment) -> None:
    s = deployment.settings
    p = corr_banks(2).inbound(amount=Decimal("250.00"))
    await send(s, "corr", p, p.uetr)
    delivered = await read(s, "cips.out", p.uetr, lambda xs: any(isinstance(x, Payment) for x in xs))
    payment = next(x for x in delivered if isinstance(x, Payment))
    assert payment.currency == "CNY" and payment.instructed_currency == p.currency
    assert payment.settlement_method == "CLRG" and payment.purpose  # CIPS needs a purpose code
    back = await read(s, "corr.out", p.uetr, lambda xs: ("ACSC", None) in statuses(xs))
    assert ("ACSC", None) in statuses(back)
    await journey(s, p.uetr, "settled")


async def test_sanctions_hit_is_held_then_released_and_settles(deployment: Deployment) -> None:
    s = deployment.settings
    p, _ = traffic(3).payment(kind="pacs.008", wallet=False,
        to=DIRECTORY.by_bic("HDSNUS33"), creditor_name="Banco Ficticio del Norte",
                              amount=Decimal("5000.00"))
    await send(s, "cips", p, p.uetr)
    held = await journey(s, p.uetr, "held")
    assert held["reason"] == "RR04"
    pending = await read(s, "cips.out", p.uetr, lambda xs: any(st == "PDNG" for st, _ in statuses(xs)))
    assert any(st == "PDNG" for st, _ in statuses(pending))
    cases = await read(s, "screening.cases", p.uetr, lambda xs: bool(xs), raw=True)
    case = cases[0]
    assert case["matches"] and case["matches"][0]["entry"] == "900005"
    decision = {"case_id": case["case_id"], "uetr": p.uetr, "action": "release", "reason": "different entity",
                "analyst": "e2e-analyst", "decided_at": datetime.now(UTC).isoformat()}
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    await producer.send_and_wait(topic_name("screening.decisions", s.kafka.topic_prefix),
                                 json.dumps(decision).encode(), key=p.uetr.encode())
    await producer.stop()
    snap = await journey(s, p.uetr, "settled")
    released = next(h for h in snap["hops"] if h["stage"] == "released")
    assert released["by"] == "e2e-analyst"


async def test_insufficient_liquidity_is_queued_then_rejected_am04(deployment: Deployment) -> None:
    s = deployment.settings
    p, _ = traffic(4).payment(kind="pacs.008", wallet=False,
        to=DIRECTORY.by_bic("NRDBDEFF"), amount=Decimal("1500000.00"))
    thin = DIRECTORY.by_bic(THIN)
    assert thin is not None and thin.cips_id
    from router.iso20022.model import Agent

    agent = Agent(cips_id=thin.cips_id)
    p = p.model_copy(update={"debtor_agent": agent, "instructing_agent": agent,
                             "header": p.header.model_copy(update={"sender": agent}) if p.header else None})
    await send(s, "cips", p, p.uetr)
    back = await read(s, "cips.out", p.uetr, lambda xs: any(st == "RJCT" for st, _ in statuses(xs)))
    assert ("PDNG", "AM04") in statuses(back) or any(st == "PDNG" for st, _ in statuses(back))
    assert ("RJCT", "AM04") in statuses(back)
    snap = await journey(s, p.uetr, "rejected")
    assert "queued" in stages(snap) and snap["reason"] == "AM04"


async def test_stale_fx_quote_waits_then_rejects(deployment: Deployment) -> None:
    s = deployment.settings
    p, _ = traffic(5).payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic(STALE_BANK), amount=Decimal("1000.00"))
    await send(s, "cips", p, p.uetr)
    back = await read(s, "cips.out", p.uetr, lambda xs: any(st == "RJCT" for st, _ in statuses(xs)))
    assert ("RJCT", "AB03") in statuses(back)
    snap = await journey(s, p.uetr, "rejected")
    assert "queued" in stages(snap) and "priced" not in stages(snap)


async def _settled_outbound(s: Settings, seed: int) -> tuple[Payment, Payment]:
    p, _ = traffic(seed).payment(kind="pacs.008", wallet=False,
        to=DIRECTORY.by_bic("HDSNUS33"), amount=Decimal("7100.00"))
    await send(s, "cips", p, p.uetr)
    delivered = await read(s, "corr.out", p.uetr, lambda xs: any(isinstance(x, Payment) for x in xs))
    return p, next(x for x in delivered if isinstance(x, Payment))


async def test_correspondent_reject_after_settlement_reverses(deployment: Deployment) -> None:
    s = deployment.settings
    p, delivered = await _settled_outbound(s, 6)
    rjct = corr_banks(6).answer(delivered)[0].model_copy(update={"status": "RJCT", "reason_code": "AC04"})
    await send(s, "corr", rjct, p.uetr)
    snap = await journey(s, p.uetr, "rejected")
    assert stages(snap)[-2:] == ["refused", "rejected"] and snap["reason"] == "AC04"
    back = await read(s, "cips.out", p.uetr, lambda xs: ("RJCT", "AC04") in statuses(xs))
    assert statuses(back)[:1] == [("ACSC", None)] and ("RJCT", "AC04") in statuses(back)


async def test_return_runs_reverse_pvp_and_reaches_the_cips_sender(deployment: Deployment) -> None:
    s = deployment.settings
    p, delivered = await _settled_outbound(s, 7)
    await send(s, "corr", corr_banks(7).return_of(delivered, "AC04"), p.uetr)
    await journey(s, p.uetr, "returned")
    back = await read(s, "cips.out", p.uetr, lambda xs: any(getattr(x, "kind", "") == "pacs.004" for x in xs))
    ret = next(x for x in back if getattr(x, "kind", "") == "pacs.004")
    assert ret.currency == "CNY" and ret.returned_amount > 0


async def test_cancellation_before_settlement(deployment: Deployment) -> None:
    s = deployment.settings
    t = traffic(8)
    p, _ = t.payment(kind="pacs.008", wallet=False,
        to=DIRECTORY.by_bic("HDSNUS33"), creditor_name="Banco Ficticio del Norte",
                     amount=Decimal("3000.00"))
    await send(s, "cips", p, p.uetr)
    await journey(s, p.uetr, "held")
    await send(s, "cips", t.cancellation(p), p.uetr)
    await journey(s, p.uetr, "cancelled")
    back = await read(s, "cips.out", p.uetr, lambda xs: any(getattr(x, "kind", "") == "camt.029" for x in xs))
    assert [x.status for x in back if getattr(x, "kind", "") == "camt.029"] == ["CNCL"]


async def test_cancellation_after_settlement_is_forwarded_and_answered(deployment: Deployment) -> None:
    s = deployment.settings
    t = traffic(9)
    p, delivered = await _settled_outbound(s, 9)
    await journey(s, p.uetr, "settled")
    await send(s, "cips", t.cancellation(p), p.uetr)
    fwd = await read(s, "corr.out", p.uetr, lambda xs: any(getattr(x, "kind", "") == "camt.056" for x in xs))
    cxl = next(x for x in fwd if getattr(x, "kind", "") == "camt.056")
    banks = corr_banks(9)
    res, _ = banks.resolve(cxl)
    await send(s, "corr", res.model_copy(update={"status": "CNCL"}), p.uetr)
    await send(s, "corr", banks.return_of(delivered, "CUST"), p.uetr)
    await journey(s, p.uetr, "cancelled")
    back = await read(s, "cips.out", p.uetr, lambda xs: any(getattr(x, "kind", "") == "pacs.004" for x in xs))
    assert any(getattr(x, "kind", "") == "camt.029" for x in back)


@pytest.mark.browser
async def test_analyst_releases_a_held_payment_in_chromium_and_it_settles(deployment: Deployment,
                                                                           tmp_path_factory: pytest.TempPathFactory
                                                                           ) -> None:
    """The review page, driven by headless Chromium: log in, see the held payment, release it;
    the corridor resumes it and the payment settles."""
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not await asyncio.to_thread(Path(chromium).exists):
        pytest.skip("chromium is not installed (make browser, or apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    s = with_analysts(deployment.settings)
    port = free_port()
    review = spawn(s, tmp_path_factory.mktemp("review") / "review.log", "review-server", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_healthy(f"{base}/healthz", review)
        p, _ = traffic(10).payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"),
                                   creditor_name="Banco Ficticio del Norte", amount=Decimal("4200.00"))
        await send(s, "cips", p, p.uetr)
        await journey(s, p.uetr, "held")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            try:
                # Four eyes: ana proposes the release of this sanctions hit, bo approves it.
                for user, button, reason in (("ana", "release", "Not the listed bank: different country"),
                                             ("bo", "approve", "Agreed: different country")):
                    page = await (await browser.new_context()).new_page()
                    await page.goto(f"{base}/login")
                    await page.fill("#username", user)
                    await page.fill("#password", PASSWORDS[user])
                    await page.click("#login")
                    await page.wait_for_url(f"{base}/cases")
                    case = page.locator(f'section.case[data-uetr="{p.uetr}"]')
                    for _ in range(100):  # the page's case feed may still be catching up
                        if await case.count() and await case.locator(f"button[value={button}]").count():
                            break
                        await page.wait_for_timeout(200)
                        await page.reload()
                    assert await case.count() == 1
                    assert "900005" in await case.inner_text()  # the matched list entry is explained
                    await case.locator("textarea[name=reason]").fill(reason)
                    await case.locator(f"button[value={button}]").click()
                    await page.wait_for_selector("p.flash")
            finally:
                await browser.close()
        decisions = await read(s, "screening.decisions", p.uetr, lambda xs: bool(xs), raw=True)
        assert decisions and decisions[0]["action"] == "release", decisions
        snap = await journey(s, p.uetr, "settled")
        released = next(h for h in snap["hops"] if h["stage"] == "released")
        assert released["by"] == "bo"
        assert decisions[0]["proposed_by"] == "ana"
    finally:
        review.stop()


def test_zz_ledger_is_clean_after_every_path(deployment: Deployment) -> None:
    """Last in the module (pytest keeps file order): the ledger check over every path above."""
    from router.ledger_reader import check_ledger

    assert deployment.alive(), deployment.logs()
    report = asyncio.run(check_ledger(deployment.settings, wait_s=2.0))
    assert report.violation_count == 0, report.violations
    assert report.commits >= 6 and report.aborts >= 1
