"""Headless Chromium drives the review page against the real broker: two analysts sign in,
one proposes releasing the held payment, the other approves it, and the release decision
arrives on ``screening.decisions`` (with both audit records on ``screening.audit``).

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
from typing import TYPE_CHECKING

import httpx
import pytest

from router.config import Settings
from router.screening.cases import case_for
from router.screening.decision import screen_payment
from router.screening.loaders import load_list
from router.screening.model import Agent, Party, ScreeningRequest
from router.screening.screener import Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings
from tests.support.analysts import PASSWORDS, with_analysts
from tests.support.kafka import consume, produce, settings_env

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

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
    d = screen_payment(req, Screener([load_list(DEMO_LIST)], ScreeningSettings()), (), datetime.now(UTC))
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


async def _sign_in(browser: Browser, base: str, user: str) -> Page:
    """A page in its own browser context (its own cookies): one analyst at one desk."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#username", user)
    await page.fill("#password", PASSWORDS[user])
    await page.click("#login")
    await page.wait_for_url(f"{base}/cases")
    return page


async def _case_on(page: Page, uetr: str) -> Locator:
    case = page.locator(f'section.case[data-uetr="{uetr}"]')
    for _ in range(50):  # the case feed may still be catching up
        if await case.count():
            break
        await page.wait_for_timeout(200)
        await page.reload()
    assert await case.count() == 1
    return case


async def _fonts_for(page: Page, selector: str) -> dict[str, int]:
    """The platform fonts Chromium drew ``selector``'s text with: family -> glyph count."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument")
    node = await cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector})
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    return {f["familyName"]: f["glyphCount"] for f in fonts["fonts"]}


async def test_four_eyes_release_of_a_held_payment_in_chromium(topics: Settings, tmp_path: Path) -> None:
    """ana proposes the release, cannot approve it herself, bo approves it; the decision names
    both, and the audit trail has both records. The session cookie is Secure: Chromium keeps
    it for http://127.0.0.1 (a secure context). The Chinese name is drawn with a CJK font."""
    _need_browser()
    from playwright.async_api import async_playwright

    settings = with_analysts(topics)
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
                ana = await _sign_in(browser, base, "ana")
                case = await _case_on(ana, uetr)
                text = await case.inner_text()
                assert "MORDANT, Felix Augustin" in text and "900009" in text and "88000.00 CNY" in text
                assert "王芳" in text
                assert "0.96" in await case.locator("td.score").first.inner_text()
                fonts = await _fonts_for(ana, f'section.case[data-uetr="{uetr}"] span.original')
                cjk = {f: n for f, n in fonts.items() if "CJK" in f}
                assert sum(cjk.values()) >= 2, f"Chinese name drawn without a CJK font: {fonts}"

                await case.locator("textarea[name=reason]").fill("Different person: date of birth differs")
                await case.locator("button[value=release]").click()
                await ana.wait_for_selector("p.flash")
                assert "release proposed" in await ana.inner_text("p.flash")
                case = await _case_on(ana, uetr)
                assert "Waiting for a second analyst" in await case.inner_text()
                assert await case.locator("button[value=approve]").count() == 0

                bo = await _sign_in(browser, base, "bo")
                case = await _case_on(bo, uetr)
                assert await case.locator("b.proposer").inner_text() == "ana"
                await case.locator("textarea[name=reason]").fill("Agreed: DOB 1961 vs 1990")
                await case.locator("button[value=approve]").click()
                await bo.wait_for_selector("p.flash")
                assert "released" in await bo.inner_text("p.flash")
                assert await bo.locator(f'section.case[data-uetr="{uetr}"]').count() == 0
                await ana.reload()
                assert await ana.locator(f'section.case[data-uetr="{uetr}"]').count() == 0
            finally:
                await browser.close()

        decisions = await consume(settings, "screening.decisions", until=lambda rs: len(rs) >= 1)
        assert len(decisions) == 1 and decisions[0].key == uetr.encode()
        d = json.loads(decisions[0].value)
        assert (d["uetr"], d["action"], d["analyst"], d["proposed_by"]) == (uetr, "release", "bo", "ana")
        assert (d["reason"], d["proposal_reason"]) == ("Agreed: DOB 1961 vs 1990",
                                                       "Different person: date of birth differs")
        audit = await consume(settings, "screening.audit", until=lambda rs: len(rs) >= 2)
        trail = [json.loads(r.value) for r in audit]
        assert [(a["actor"], a["outcome"]) for a in trail] == [("ana", "release-proposed"), ("bo", "release")]
        assert trail[1]["proposed_by"] == "ana" and all(a["case_id"] == f"case-{uetr}" for a in trail)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
