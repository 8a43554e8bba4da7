"""The review page's HTTP behaviour: login, CSRF, escaping, decisions (no broker: a recording sink)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from router.config import WebSettings
from router.screening.cases import AnalystDecision, Case
from router.screening.model import Match, Party, ScreeningRequest
from router.web.app import MAX_FAILURES, build_review_app
from router.web.casebook import CaseBook

WEB = WebSettings(reviewer_username="ana", reviewer_password=SecretStr("s3cret-pw"),
                  session_secret=SecretStr("test-secret-0123456789"))


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[AnalystDecision] = []

    async def publish(self, decision: AnalystDecision) -> None:
        self.sent.append(decision)


def make_case(uetr: str = "11111111-2222-4333-8444-555555555555", debtor: str = "Felix Mordant") -> Case:
    req = ScreeningRequest(uetr=uetr, debtor=Party(name=debtor), creditor=Party(name="Hans Muller"),
                           amount=Decimal("1250.00"), currency="CNY")
    m = Match(list="OFAC-SDN", list_version="OFAC-SDN@2026-01-01#abc", entry="900009",
              entry_name="MORDANT, Felix Augustin", field="name", matched="MORDANT, Felix Augustin",
              screened=debtor, party="debtor", score=0.96)
    return Case(case_id=f"case-{uetr}", uetr=uetr, opened_at=datetime(2026, 3, 2, tzinfo=UTC),
                reason="debtor name matches OFAC-SDN entry 900009", matches=(m,),
                list_versions=({"source": "OFAC-SDN", "published": "2026-01-01", "entries": 14},), request=req)


@pytest.fixture
def env() -> tuple[TestClient, CaseBook, RecordingSink]:
    book, sink = CaseBook(), RecordingSink()
    client = TestClient(build_review_app(WEB, book, sink), base_url="http://review.test")
    return client, book, sink


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(client: TestClient, password: str = "s3cret-pw") -> object:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": "ana", "password": password},
                       follow_redirects=False)


def test_pages_need_login_and_send_security_headers(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, _, _ = env
    r = client.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = client.get("/login")
    assert page.headers["x-frame-options"] == "DENY" and "default-src 'none'" in page.headers["content-security-policy"]
    assert "samesite=strict" in page.headers["set-cookie"].lower() and "httponly" in page.headers["set-cookie"].lower()


def test_wrong_password_then_lockout(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, _, _ = env
    r = login(client, "nope")
    assert r.status_code == 401 and "Wrong user or password" in r.text  # type: ignore[attr-defined]
    for _ in range(MAX_FAILURES - 1):
        login(client, "nope")
    r = login(client)  # even the right password is refused while locked out
    assert r.status_code == 429  # type: ignore[attr-defined]


def test_login_without_csrf_token_is_refused(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, _, _ = env
    client.get("/login")
    r = client.post("/login", data={"username": "ana", "password": "s3cret-pw"}, follow_redirects=False)
    assert r.status_code == 400
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_case_list_release_and_audit_trail(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, sink = env
    case = make_case()
    assert book.apply_case(case.to_bytes()) == case
    assert login(client).status_code == 303  # type: ignore[attr-defined]
    page = client.get("/cases")
    assert "MORDANT, Felix Augustin" in page.text and "0.96" in page.text and case.uetr in page.text
    token = csrf_of(page.text)
    r = client.post(f"/cases/{case.uetr}/decision", data={"csrf": token, "action": "release",
                                                          "reason": "DOB differs from listing"},
                    follow_redirects=False)
    assert r.status_code == 303
    (d,) = sink.sent
    assert (d.uetr, d.action, d.analyst, d.reason, d.reason_code) == (
        case.uetr, "release", "ana", "DOB differs from listing", None)
    after = client.get("/cases").text
    assert "released" in after and "No held payments" in after
    again = client.post(f"/cases/{case.uetr}/decision", data={"csrf": token, "action": "reject", "reason": "x"})
    assert again.status_code == 409 and len(sink.sent) == 1


def test_decision_needs_csrf_reason_and_action(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, sink = env
    case = make_case()
    book.apply_case(case.to_bytes())
    login(client)
    token = csrf_of(client.get("/cases").text)
    url = f"/cases/{case.uetr}/decision"
    assert client.post(url, data={"csrf": "forged", "action": "reject", "reason": "r"}).status_code == 403
    assert client.post(url, data={"csrf": token, "action": "reject", "reason": "  "}).status_code == 400
    assert client.post(url, data={"csrf": token, "action": "delete", "reason": "r"}).status_code == 400
    assert client.post(url, data={"csrf": token, "action": "reject", "reason": "r"},
                       headers={"origin": "http://evil.example"}).status_code == 403
    assert sink.sent == []
    r = client.post(url, data={"csrf": token, "action": "reject", "reason": "confirmed"}, follow_redirects=False)
    assert r.status_code == 303 and sink.sent[0].reason_code == "RR04"


def test_hostile_names_are_escaped(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, _ = env
    book.apply_case(make_case(debtor="<script>alert(1)</script>").to_bytes())
    login(client)
    page = client.get("/cases").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_casebook_ignores_late_cases_and_junk() -> None:
    book = CaseBook()
    case = make_case()
    d = AnalystDecision(case_id=case.case_id, uetr=case.uetr, action="reject", reason="r", analyst="ana",
                        decided_at=datetime(2026, 3, 2, tzinfo=UTC))
    assert book.apply_decision(d.to_bytes()) == d
    book.apply_case(case.to_bytes())  # read after its decision (different topic)
    assert len(book) == 0 and book.decided(case.uetr) == d
    assert book.apply_case(b"{not json") is None and book.rejected_records == 1
