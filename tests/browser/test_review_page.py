"""Headless Chromium drives the review page against the real broker: log in, see the held
payment with its match explanation, release it, and the release decision arrives on
``screening.decisions`` (with its audit record on ``screening.audit``).

Needs Debian's chromium (``apt-get install -y chromium``) and the playwright Python package;
skips with a message when either is missing.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from router.config import Settings
from router.screening.cases import case_for
from router.screening.decision import screen_payment
from router.screening.loaders import load_list
from router.screening.model import Agent, Party, ScreeningRequest
from router.screening.screener import Screener
from router.screening.settings import DEFAULT_LIST, ScreeningSettings
from tests.support.kafka import consume, produce, settings_env

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _need_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed")


def _held_case(uetr: str) -> bytes:
    req = ScreeningRequest(uetr=uetr, debtor=Party(name="Wang Fang", name_original="王芳", account="1", country="CN",
                                                   address="Shanghai"),
                           creditor=Party(name="Felix Mordant", account="FR7630006000011234567890189", country="FR"),
                           debtor_agent=Agent(bic="ICBKCNBJXXX"), creditor_agent=Agent(bic="BNPAFRPPXXX"),
                           amount=Decimal("88000.00"), currency="CNY")
    d = screen_payment(req, Screener([load_list(DEFAULT_LIST)], ScreeningSettings()), (), datetime.now(UTC))
    assert d.outcome == "hold"
    return case_for(d, req).to_bytes()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"review server exited:\n{_tail(log)}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"review server not ready:\n{_tail(log)}")


async def test_release_a_held_payment_in_chromium(topics: Settings, tmp_path: Path) -> None:
    _need_browser()
    from playwright.async_api import async_playwright

    settings = topics
    uetr = str(uuid.uuid4())
    log = tmp_path / "review.log"
    with log.open("wb") as fh:
        # The server under test runs in its own process, as it is deployed.
        proc = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "router", "review-server"], env=settings_env(settings),
            stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{settings.web.port}"
    try:
        await _wait_ready(base, proc, log)
        await produce(settings, "screening.cases", _held_case(uetr), key=uetr.encode())
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await browser.new_page()
                await page.goto(f"{base}/login")
                await page.fill("#username", settings.web.reviewer_username)
                await page.fill("#password", settings.web.reviewer_password.get_secret_value())
                await page.click("#login")
                await page.wait_for_url(f"{base}/cases")
                case = page.locator(f'section.case[data-uetr="{uetr}"]')
                for _ in range(50):  # the case feed may still be catching up
                    if await case.count():
                        break
                    await page.wait_for_timeout(200)
                    await page.reload()
                assert await case.count() == 1
                text = await case.inner_text()
                assert "MORDANT, Felix Augustin" in text and "900009" in text and "88000.00 CNY" in text
                assert "0.96" in await case.locator("td.score").first.inner_text()
                await case.locator("textarea[name=reason]").fill("Different person: date of birth differs")
                await case.locator("button[value=release]").click()
                await page.wait_for_selector("p.flash")
                assert "released" in await page.inner_text("p.flash")
                assert await page.locator(f'section.case[data-uetr="{uetr}"]').count() == 0
            finally:
                await browser.close()

        decisions = await consume(settings, "screening.decisions", until=lambda rs: len(rs) >= 1)
        d = json.loads(decisions[0].value)
        assert decisions[0].key == uetr.encode()
        assert (d["uetr"], d["action"], d["analyst"]) == (uetr, "release", settings.web.reviewer_username)
        assert d["reason"] == "Different person: date of birth differs"
        audit = await consume(settings, "screening.audit", until=lambda rs: len(rs) >= 1)
        a = json.loads(audit[0].value)
        assert a["kind"] == "human" and a["outcome"] == "release" and a["case_id"] == f"case-{uetr}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
