"""The review page's HTTP behaviour: accounts, sessions, CSRF, rate limits, escaping, four-eyes
decisions (no broker: a recording sink)."""

from __future__ import annotations

import asyncio
import io
import re
import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from router.config import WebSettings
from router.screening.cases import AnalystDecision, Case, audit_for_analyst, audit_for_proposal
from router.screening.model import Match, Party, ScreeningRequest
from router.screening.rules import RuleHit
from router.web.accounts import AccountError, Accounts, hash_password, parse_accounts_file, with_account
from router.web.app import MAX_FAILURES, build_review_app
from router.web.casebook import CaseBook
from tests.support.analysts import PASSWORDS, web_with_analysts

WEB = web_with_analysts(WebSettings(session_secret=SecretStr("test-secret-0123456789")))
UETR = "11111111-2222-4333-8444-555555555555"


class RecordingSink:
    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[AnalystDecision] = []
        self.proposed: list[Case] = []
        self.delay = delay

    async def publish(self, decision: AnalystDecision) -> None:
        await asyncio.sleep(self.delay)
        self.sent.append(decision)

    async def propose(self, case: Case) -> None:
        await asyncio.sleep(self.delay)
        self.proposed.append(case)


def make_case(uetr: str = UETR, debtor: str = "Felix Mordant", *, sanctions: bool = True,
              original: str | None = None) -> Case:
    req = ScreeningRequest(uetr=uetr, debtor=Party(name=debtor, name_original=original),
                           creditor=Party(name="Hans Muller"), amount=Decimal("1250.00"), currency="CNY")
    m = Match(list="OFAC-SDN", list_version="OFAC-SDN@2026-01-01#abc", entry="900009",
              entry_name="MORDANT, Felix Augustin", field="name", matched="MORDANT, Felix Augustin",
              screened=debtor, party="debtor", score=0.96)
    rule = RuleHit(rule="structuring", outcome="hold", reason_code="NARR", text="6 payments in 1 h")
    return Case(case_id=f"case-{uetr}", uetr=uetr, opened_at=datetime(2026, 3, 2, tzinfo=UTC),
                reason="debtor name matches OFAC-SDN entry 900009" if sanctions else "velocity",
                matches=(m,) if sanctions else (), rules=() if sanctions else (rule,),
                list_versions=({"source": "OFAC-SDN", "published": "2026-01-01", "entries": 14},), request=req)


def client_for(book: CaseBook, sink: RecordingSink, web: WebSettings = WEB) -> TestClient:
    # https: the session cookie is Secure, and a client sends it back over https only.
    return TestClient(build_review_app(web, book, sink), base_url="https://review.test")


@pytest.fixture
def env() -> tuple[TestClient, CaseBook, RecordingSink]:
    book, sink = CaseBook(), RecordingSink()
    return client_for(book, sink), book, sink


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(client: TestClient, user: str = "ana", password: str | None = None) -> httpx.Response:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": user,
                                       "password": PASSWORDS[user] if password is None else password},
                       follow_redirects=False)


def decide(client: TestClient, action: str, reason: str = "checked", uetr: str = UETR) -> httpx.Response:
    token = csrf_of(client.get("/cases").text)
    return client.post(f"/cases/{uetr}/decision", data={"csrf": token, "action": action, "reason": reason},
                       follow_redirects=False)


def test_pages_need_a_session_and_send_security_headers(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, sink = env
    book.apply_case(make_case().to_bytes())
    r = client.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    r = client.post(f"/cases/{UETR}/decision", data={"action": "reject", "reason": "x"}, follow_redirects=False)
    assert r.status_code == 401 and UETR not in r.text and sink.sent == []
    health = client.get("/healthz")
    assert health.json() == {"ready": True}  # a probe learns nothing about cases
    page = client.get("/login")
    assert page.headers["x-frame-options"] == "DENY" and "default-src 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie and "secure" in cookie


def test_cookie_secure_can_be_turned_off_for_plain_http() -> None:
    client = client_for(CaseBook(), RecordingSink(), WEB.model_copy(update={"cookie_secure": False}))
    assert "secure" not in client.get("/login").headers["set-cookie"].lower()


def test_each_analyst_signs_in_with_their_own_password(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, _, _ = env
    assert login(client, "ana", PASSWORDS["bo"]).status_code == 401  # not a shared password
    assert login(client, "nobody", PASSWORDS["ana"]).status_code == 401
    assert login(client, "bo").status_code == 303
    assert ">bo</span>" in client.get("/cases").text


def test_wrong_password_then_lockout(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, _, _ = env
    r = login(client, password="nope")
    assert r.status_code == 401 and "Wrong user or password" in r.text
    for _ in range(MAX_FAILURES - 1):
        login(client, password="nope")
    assert login(client).status_code == 429  # even the right password is refused while locked out
    assert login(client, "bo").status_code == 303  # another analyst is not locked out


def test_sign_in_is_rate_limited_per_client() -> None:
    client = client_for(CaseBook(), RecordingSink(), WEB.model_copy(update={"login_attempts_per_minute": 3}))
    codes = [login(client, f"user{i}", "x").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    assert login(client).status_code == 429  # spraying names does not get around it


def test_login_without_csrf_token_is_refused(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, _, _ = env
    client.get("/login")
    r = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]}, follow_redirects=False)
    assert r.status_code == 400
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_four_eyes_release_and_its_audit_trail(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, sink = env
    book.apply_case(make_case().to_bytes())
    login(client, "ana")
    page = client.get("/cases").text
    assert "MORDANT, Felix Augustin" in page and "0.96" in page and "Propose release" in page
    assert decide(client, "approve").status_code == 409  # nothing proposed yet
    assert decide(client, "release", "DOB differs from listing").status_code == 303
    (proposed,) = sink.proposed
    assert sink.sent == [] and proposed.release_proposal is not None
    assert (proposed.release_proposal.analyst, proposed.release_proposal.reason) == ("ana", "DOB differs from listing")
    page = client.get("/cases").text
    assert "release proposed" in page and "Waiting for a second analyst" in page and 'value="approve"' not in page
    r = decide(client, "approve", "I approve my own")
    assert r.status_code == 403 and "Four eyes" in r.text
    assert decide(client, "release", "again").status_code == 409
    assert sink.sent == []

    bo = client_for(book, sink)
    login(bo, "bo")
    assert "Release proposed by <b class='proposer'>ana</b>" in bo.get("/cases").text
    assert decide(bo, "approve", "Confirmed: different DOB").status_code == 303
    (d,) = sink.sent
    assert (d.action, d.analyst, d.proposed_by, d.proposal_reason, d.reason) == (
        "release", "bo", "ana", "DOB differs from listing", "Confirmed: different DOB")
    assert "No held payments" in bo.get("/cases").text
    # The audit trail names both analysts: the proposal's record and the approval's.
    first, second = audit_for_proposal(proposed), audit_for_analyst(d)
    assert (first.actor, first.outcome) == ("ana", "release-proposed")
    assert (second.actor, second.outcome, second.proposed_by) == ("bo", "release", "ana")
    # Decided: neither analyst can decide it again.
    assert decide(bo, "reject", "changed my mind").status_code == 409
    assert decide(client, "approve", "late").status_code == 409 and len(sink.sent) == 1


def test_a_proposal_can_be_rejected_and_rule_holds_release_with_one_analyst(
        env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, sink = env
    other = "22222222-2222-4333-8444-555555555555"
    book.apply_case(make_case().to_bytes())
    book.apply_case(make_case(other, sanctions=False).to_bytes())
    login(client, "ana")
    decide(client, "release", "looks fine")
    assert decide(client, "reject", "on second thought").status_code == 303
    assert [(d.uetr, d.action, d.analyst) for d in sink.sent] == [(UETR, "reject", "ana")]
    assert decide(client, "release", "velocity explained", other).status_code == 303  # no sanctions hit
    assert (sink.sent[-1].action, sink.sent[-1].proposed_by) == ("release", None)


def test_policy_all_needs_two_analysts_for_rule_holds_too() -> None:
    book, sink = CaseBook(), RecordingSink()
    client = client_for(book, sink, WEB.model_copy(update={"four_eyes": "all"}))
    book.apply_case(make_case(sanctions=False).to_bytes())
    login(client)
    decide(client, "release", "fine")
    assert sink.sent == [] and len(sink.proposed) == 1


async def test_a_case_is_decided_once_under_concurrent_clicks() -> None:
    book, sink = CaseBook(), RecordingSink(delay=0.05)
    book.apply_case(make_case().to_bytes())
    app = build_review_app(WEB, book, sink)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://review.test") as c:
        token = csrf_of((await c.get("/login")).text)
        await c.post("/login", data={"csrf": token, "username": "ana", "password": PASSWORDS["ana"]})
        token = csrf_of((await c.get("/cases")).text)
        url = f"/cases/{UETR}/decision"
        results = await asyncio.gather(*(c.post(url, data={"csrf": token, "action": "reject", "reason": f"r{i}"})
                                         for i in range(5)))
    assert sorted(r.status_code for r in results) == [303, 409, 409, 409, 409]
    assert len(sink.sent) == 1


def test_decision_needs_csrf_reason_and_action(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, sink = env
    book.apply_case(make_case().to_bytes())
    login(client)
    token = csrf_of(client.get("/cases").text)
    url = f"/cases/{UETR}/decision"
    assert client.post(url, data={"csrf": "forged", "action": "reject", "reason": "r"}).status_code == 403
    assert client.post(url, data={"csrf": token, "action": "reject", "reason": "  "}).status_code == 400
    assert client.post(url, data={"csrf": token, "action": "delete", "reason": "r"}).status_code == 400
    assert client.post(url, data={"csrf": token, "action": "reject", "reason": "r"},
                       headers={"origin": "https://evil.example"}).status_code == 403
    assert client.post("/cases/nope/decision", data={"csrf": token, "action": "reject", "reason": "r"}
                       ).status_code == 404
    assert sink.sent == []
    r = client.post(url, data={"csrf": token, "action": "reject", "reason": "confirmed"}, follow_redirects=False)
    assert r.status_code == 303 and sink.sent[0].reason_code == "RR04"


def test_hostile_names_are_escaped_and_chinese_names_shown(env: tuple[TestClient, CaseBook, RecordingSink]) -> None:
    client, book, _ = env
    book.apply_case(make_case(debtor="<script>alert(1)</script>").to_bytes())
    book.apply_case(make_case("33333333-2222-4333-8444-555555555555", "Wang Fang", original="王芳").to_bytes())
    login(client)
    page = client.get("/cases").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Wang Fang <span class='original' lang='zh'>(王芳)</span>" in page


def test_casebook_ignores_late_cases_junk_and_keeps_proposals() -> None:
    book = CaseBook()
    case = make_case()
    d = AnalystDecision(case_id=case.case_id, uetr=case.uetr, action="reject", reason="r", analyst="ana",
                        decided_at=datetime(2026, 3, 2, tzinfo=UTC))
    assert book.apply_decision(d.to_bytes()) == d
    book.apply_case(case.to_bytes())  # read after its decision (different topic)
    assert len(book) == 0 and book.decided(case.uetr) == d
    later = d.model_copy(update={"action": "release", "analyst": "bo"})
    book.apply_decision(later.to_bytes())
    assert book.decided(case.uetr) == d  # the first decision on the topic counts
    assert book.apply_case(b"{not json") is None and book.rejected_records == 1

    other = make_case("44444444-2222-4333-8444-555555555555")
    from router.screening.cases import ReleaseProposal
    proposed = other.model_copy(update={"release_proposal": ReleaseProposal(analyst="ana", reason="x",
                                                                            at=datetime(2026, 3, 3, tzinfo=UTC))})
    book.apply_case(other.to_bytes())
    book.apply_case(proposed.to_bytes())
    book.apply_case(other.to_bytes())  # a redelivered copy of the case does not erase the proposal
    assert book.get(other.uetr) == proposed


def test_accounts_file_and_hashes(tmp_path: Path) -> None:
    line = f"carla:{hash_password('carla-password-9')}"
    accounts = Accounts.load({}, _write(tmp_path / "acc", f"# analysts\n{line}\n"))
    assert accounts.verify("carla", "carla-password-9") and not accounts.verify("carla", "wrong")
    assert not accounts.verify("dave", "carla-password-9")
    with pytest.raises(AccountError, match="argon2 hash"):
        parse_accounts_file("eve:plain-password")
    with pytest.raises(AccountError, match="twice"):
        parse_accounts_file(f"{line}\n{line}")
    with pytest.raises(AccountError, match="12 characters"):
        hash_password("short")
    with pytest.raises(AccountError, match="cannot read"):
        Accounts.load({}, tmp_path / "missing")
    updated = with_account(f"{line}\n", "carla", hash_password("carla-new-password"))
    assert updated.count("carla:") == 1 and Accounts(parse_accounts_file(updated)).verify("carla", "carla-new-password")


def test_review_account_command_writes_a_private_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from router.cli import main

    file = tmp_path / "analysts"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert main(["review-account", "ana", "--file", str(file)]) == 0
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert Accounts.load({}, file).verify("ana", "a-long-enough-password")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_case_shows_both_sides_of_each_identifier() -> None:
    from router.web.pages import cases_page

    case = make_case()
    m = case.matches[0].model_copy(update={
        "score": 0.91, "name_score": 0.96, "basis": "romanization:cantonese/pinyin", "short": True,
        "evidence": ("agrees: date of birth: payment 1975-08-09, list 1975-08-09",
                     "contradicts: country: payment DE, list CN")})
    html = cases_page("alice", [case.model_copy(update={"matches": (m,)})], "tok", "sanctions")
    assert "name alone 0.96, romanization:cantonese/pinyin, short name" in html
    assert "<li class='agrees'>agrees: date of birth: payment 1975-08-09, list 1975-08-09</li>" in html
    assert "<li class='contradicts'>contradicts: country: payment DE, list CN</li>" in html
