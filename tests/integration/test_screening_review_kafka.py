"""The review server on the real broker: a case produced to ``screening.cases`` shows up, a
release lands on ``screening.decisions`` with its audit record on ``screening.audit``, and a
decision made elsewhere takes the case off the page."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
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
from router.screening.settings import DEFAULT_LIST, ScreeningSettings
from router.web.server import ReviewServer
from tests.support.kafka import consume, produce

pytestmark = pytest.mark.integration


def held_case(uetr: str) -> bytes:
    req = ScreeningRequest(uetr=uetr, debtor=Party(name="Felix Mordant", account="1", country="FR", address="Paris"),
                           creditor=Party(name="Wang Fang", account="2", country="CN"),
                           debtor_agent=Agent(bic="BNPAFRPPXXX"), creditor_agent=Agent(bic="ICBKCNBJXXX"),
                           amount=Decimal("1250.00"), currency="EUR")
    d = screen_payment(req, Screener([load_list(DEFAULT_LIST)], ScreeningSettings()), (), datetime.now(UTC))
    assert d.outcome == "hold"
    return case_for(d, req).to_bytes()


async def _wait_open(client: httpx.AsyncClient, n: int, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        r = await client.get("/healthz")
        if r.status_code == 200 and r.json()["open_cases"] == n:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"review server never showed {n} open case(s): {r.text}")


async def test_case_feed_and_decision_topics(topics: Settings) -> None:
    settings = topics
    keep, other = str(uuid.uuid4()), str(uuid.uuid4())
    server = ReviewServer(settings, host="127.0.0.1")
    await server.start()
    try:
        await produce(settings, "screening.cases", held_case(keep), key=keep.encode())
        await produce(settings, "screening.cases", held_case(other), key=other.encode())
        base = f"http://127.0.0.1:{settings.web.port}"
        async with httpx.AsyncClient(base_url=base, follow_redirects=True) as client:
            await _wait_open(client, 2)
            login = await client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            page = await client.post("/login", data={"csrf": token, "username": settings.web.reviewer_username,
                                                     "password": settings.web.reviewer_password.get_secret_value()})
            assert keep in page.text and "MORDANT, Felix Augustin" in page.text
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            r = await client.post(f"/cases/{keep}/decision",
                                  data={"csrf": token, "action": "release", "reason": "different person"})
            assert r.status_code == 200 and "released" in r.text

            # A decision made by another reviewer instance removes the other case from this page.
            from router.screening.cases import Case
            case = Case.model_validate_json(held_case(other))
            elsewhere = analyst_decision(case, "reject", "confirmed", "other-analyst")
            await produce(settings, "screening.decisions", elsewhere.to_bytes(), key=other.encode())
            await _wait_open(client, 0)

        decisions = await consume(settings, "screening.decisions", until=lambda rs: len(rs) >= 2)
        mine = [json.loads(r.value) for r in decisions if r.key == keep.encode()]
        assert len(mine) == 1 and mine[0]["action"] == "release" and mine[0]["analyst"] == "analyst"
        audit = await consume(settings, "screening.audit", until=lambda rs: len(rs) >= 1)
        rec = json.loads(audit[0].value)
        assert rec["uetr"] == keep and rec["kind"] == "human" and rec["actor"] == "analyst"
        assert rec["outcome"] == "release" and rec["list_versions"][0]["source"] == "OFAC-SDN"
    finally:
        await server.stop()
