"""The review server on the real broker: a case produced to ``screening.cases`` shows up, a
four-eyes release (proposed by one analyst, approved by another) lands on
``screening.decisions`` with both audit records on ``screening.audit``, a proposal survives a
restart of the page (it is on ``screening.cases``), and a decision made elsewhere takes the case
off the page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from router.config import Settings
from router.screening.cases import analyst_decision, case_for
from router.screening.decision import screen_payment
from router.screening.loaders import load_list
from router.screening.model import Agent, Party, ScreeningRequest
from router.screening.screener import Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings
from router.web.server import ReviewServer
from tests.support.analysts import PASSWORDS, with_analysts
from tests.support.kafka import consume, produce

pytestmark = pytest.mark.integration


def held_case(uetr: str) -> bytes:
    req = ScreeningRequest(uetr=uetr, debtor=Party(name="Felix Mordant", account="1", country="FR", address="Paris"),
                           creditor=Party(name="Wang Fang", account="2", country="CN"),
                           debtor_agent=Agent(bic="BNPAFRPPXXX"), creditor_agent=Agent(bic="ICBKCNBJXXX"),
                           amount=Decimal("1250.00"), currency="EUR")
    d = screen_payment(req, Screener([load_list(DEMO_LIST)], ScreeningSettings()), (), datetime.now(UTC))
    assert d.outcome == "hold"
    return case_for(d, req).to_bytes()


@contextlib.asynccontextmanager
async def _signed_in(base: str, user: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, follow_redirects=True) as client:
        login = await client.get("/login")
        page = await client.post("/login", data={"csrf": _csrf(login.text), "username": user,
                                                 "password": PASSWORDS[user]})
        assert page.url.path == "/cases", page.text
        yield client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


async def _wait_open(client: httpx.AsyncClient, n: int, timeout: float = 30.0) -> str:
    """The case list once it shows ``n`` open cases."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = (await client.get("/cases")).text
        if page.count('<section class="case"') == n or asyncio.get_running_loop().time() > deadline:
            assert page.count('<section class="case"') == n, f"review page never showed {n} open case(s)"
            return page
        await asyncio.sleep(0.2)


async def _decide(client: httpx.AsyncClient, uetr: str, action: str, reason: str) -> httpx.Response:
    token = _csrf((await client.get("/cases")).text)
    return await client.post(f"/cases/{uetr}/decision", data={"csrf": token, "action": action, "reason": reason})


async def test_case_feed_and_decision_topics(topics: Settings) -> None:
    # Plain http on loopback: the one case for an insecure session cookie.
    settings = with_analysts(topics, cookie_secure=False)
    keep, other = str(uuid.uuid4()), str(uuid.uuid4())
    base = f"http://127.0.0.1:{settings.web.port}"
    server = ReviewServer(settings, host="127.0.0.1")
    await server.start()
    try:
        await produce(settings, "screening.cases", held_case(keep), key=keep.encode())
        await produce(settings, "screening.cases", held_case(other), key=other.encode())
        async with _signed_in(base, "ana") as ana:
            page = await _wait_open(ana, 2)
            assert keep in page and "MORDANT, Felix Augustin" in page
            r = await _decide(ana, keep, "release", "different person")
            assert r.status_code == 200 and "release proposed" in r.text
    finally:
        await server.stop()

    # A restarted page rebuilds the proposal from screening.cases: bo sees it and approves.
    server = ReviewServer(settings, host="127.0.0.1")
    await server.start()
    try:
        async with _signed_in(base, "bo") as bo:
            page = await _wait_open(bo, 2)
            assert "Release proposed by <b class='proposer'>ana</b>" in page
            r = await _decide(bo, keep, "approve", "agreed: different DOB")
            assert r.status_code == 200 and "released" in r.text

            # A decision made by another reviewer instance removes the other case from this page.
            from router.screening.cases import Case
            case = Case.model_validate_json(held_case(other))
            elsewhere = analyst_decision(case, "reject", "confirmed", "other-analyst")
            await produce(settings, "screening.decisions", elsewhere.to_bytes(), key=other.encode())
            await _wait_open(bo, 0)
            assert (await _decide(bo, keep, "reject", "again")).status_code == 409
    finally:
        await server.stop()

    decisions = await consume(settings, "screening.decisions", until=lambda rs: len(rs) >= 2)
    mine = [json.loads(r.value) for r in decisions if r.key == keep.encode()]
    assert len(mine) == 1 and mine[0]["action"] == "release"
    assert (mine[0]["analyst"], mine[0]["proposed_by"]) == ("bo", "ana")
    audit = await consume(settings, "screening.audit", until=lambda rs: len(rs) >= 2)
    trail = [json.loads(r.value) for r in audit]
    assert [(a["uetr"], a["actor"], a["outcome"]) for a in trail] == [
        (keep, "ana", "release-proposed"), (keep, "bo", "release")]
    assert trail[1]["kind"] == "human" and trail[1]["list_versions"][0]["source"] == "DEMO"
