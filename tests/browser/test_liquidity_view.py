"""Headless Chromium drives the operator's liquidity view against the real broker and a real
settle-worker: an operator signs in, sees a participant's balance and its payment waiting in the
liquidity queue, caps the participant's net debit, funds its account (the cap keeps the payment
queued: the ledger applied it), raises the cap (the payment settles), and the journal names the
operator on each change.

Needs Debian's chromium and the playwright Python package (skips without, like
tests/browser/test_review_page.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from router.bench import settlement_load as loadgen
from router.config import Settings
from router.settlement.model import Leg, SettlementRequest
from router.settlement.settings import AccountOpening
from tests.browser.test_review_page import CHROMIUM, CHROMIUM_ARGS, _need_browser, _wait_ready
from tests.support.analysts import PASSWORDS, with_analysts
from tests.support.kafka import consume, settings_env

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(240)]


def _settings(topics: Settings) -> Settings:
    s = with_analysts(topics, liquidity_operators=("bo",))
    return s.model_copy(update={
        "kafka": s.kafka.model_copy(update={"session_timeout_s": 6.0, "rebalance_timeout_s": 6.0}),
        "settlement": s.settlement.model_copy(update={
            "opening_balances": {
                "SMALLBNK/CNY": AccountOpening(currency="CNY", amount=Decimal("100.00"), owner="SMALLBNK"),
                "BIGBANK1/CNY": AccountOpening(currency="CNY", amount=Decimal("900000.00"), owner="BIGBANK1")},
            # The payment waits in the queue for as long as the test needs.
            "liquidity_max_wait_s": 600.0, "pvp_deadline_s": 600.0}),
    })


async def _until(page: Page, selector: str, want: str, tries: int = 80) -> Locator:
    """Reload until ``selector`` reads ``want``: the page shows what the ledger has applied."""
    el = page.locator(selector)
    for _ in range(tries):
        if await el.count() and (await el.first.inner_text()).strip() == want:
            return el
        await page.wait_for_timeout(250)
        await page.reload()
    got = (await el.first.inner_text()) if await el.count() else "(absent)"
    raise AssertionError(f"{selector} shows {got!r}, not {want!r}")


async def test_operator_sees_the_queue_caps_and_funds_in_chromium(topics: Settings, tmp_path: Path) -> None:
    _need_browser()
    from playwright.async_api import async_playwright

    s = _settings(topics)
    worker = loadgen.start_worker(s, tmp_path / "settle.log", "w0")
    log = tmp_path / "review.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "router", "review-server"], env=settings_env(s), stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{s.web.port}"
    small = 'section.participant[data-participant="SMALLBNK"]'
    try:
        pay = SettlementRequest(settlement_id="pay-1", uetr="pay-1", sender="SMALLBNK", msg_id="m-1", legs=(
            Leg(leg="cny", debit_account="SMALLBNK/CNY", credit_account="BIGBANK1/CNY", currency="CNY",
                amount=Decimal("150.00")),))
        await loadgen.produce_requests(s, [pay])  # SMALLBNK holds 100.00: it waits in the queue
        await _wait_ready(base, proc, log)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await (await browser.new_context()).new_page()
                await page.goto(f"{base}/login")
                await page.fill("#username", "bo")
                await page.fill("#password", PASSWORDS["bo"])
                await page.click("#login")
                await page.wait_for_url(f"{base}/cases")
                await page.goto(f"{base}/liquidity")
                await _until(page, f"{small} b.queued", "1")
                row = f'{small} tr[data-account="SMALLBNK/CNY"]'
                assert (await page.inner_text(f"{row} td.balance")).strip() == "100.00"
                assert "150.00 CNY" in await page.inner_text(small)
                assert (await page.inner_text(f"{small} b.cap")).strip() == "none"

                # A cap of 100: the payment would take SMALLBNK's net to -150.
                await page.fill(f"{small} form.cap input[name=amount]", "100")
                await page.click(f"{small} form.cap button")
                assert "Net debit cap change to 100" in await page.inner_text("p.flash")
                await _until(page, f"{small} b.cap", "100")
                assert (await page.inner_text(f"{small} b.cap-by")).strip() == "bo"

                # Funding covers the balance, but the cap (applied by the ledger) keeps the payment queued.
                await page.fill(f"{row} input[name=amount]", "60.00")
                await page.click(f"{row} button")
                assert "Funding of 60.00 CNY to SMALLBNK/CNY sent" in await page.inner_text("p.flash")
                await _until(page, f"{row} td.balance", "160.00")
                await page.wait_for_timeout(1500)  # the ledger has looked at its queue again by now
                await page.reload()
                assert (await page.inner_text(f"{small} b.queued")).strip() == "1"

                # Raising the cap lets it through: 160 - 150.
                await page.fill(f"{small} form.cap input[name=amount]", "200")
                await page.click(f"{small} form.cap button")
                await _until(page, f"{small} b.queued", "0")
                assert (await page.inner_text(f"{row} td.balance")).strip() == "10.00"
                assert (await page.inner_text(f"{row} td.net")).strip() == "-150.00"
                actions = await page.inner_text("#actions")
                assert actions.count("bo") == 3 and "SMALLBNK/CNY" in actions
            finally:
                await browser.close()

        journal = await consume(s, "settlement.events", until=lambda rs: sum(
            json.loads(r.value)["type"] == "BOOKED" for r in rs) >= 1)
        records = [json.loads(r.value) for r in journal]
        caps = [(j["participant"], j["amount"], j["by"]) for j in records if j["type"] == "CAP_SET"]
        assert caps == [("SMALLBNK", "100", "bo"), ("SMALLBNK", "200", "bo")]
        funded = [(j["posting"]["account"], j["by"]) for j in records if j["type"] == "FUNDED"]
        assert funded == [("SMALLBNK/CNY", "bo")]
        assert [(j["settlement_id"], j["decision"]) for j in records if j["type"] == "BOOKED"] == [("pay-1", "COMMIT")]
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        worker.stop()
