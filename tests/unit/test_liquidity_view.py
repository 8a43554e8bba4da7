"""The operator's liquidity view without a broker: the board folds what the ledger writes (its
changelog and journal, produced here by the real ledger functions), and the page beside the
review page shows it and sends audited commands (a recording stand-in for Kafka)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from router.config import WebSettings
from router.settlement import pvp
from router.settlement.book import Book
from router.settlement.model import Fund, Leg, SetCap, SettlementRequest
from router.settlement.settings import AccountOpening
from router.web.app import build_review_app
from router.web.casebook import CaseBook
from router.web.liquidity_board import LiquidityBoard
from router.web.liquidity_routes import LiquidityDesk
from tests.support.analysts import PASSWORDS, web_with_analysts
from tests.unit.test_screening_review_web import RecordingSink, csrf_of, login

WEB = web_with_analysts(WebSettings(session_secret=SecretStr("test-secret-0123456789")), liquidity_operators=("bo",))
POLICY = pvp.Policy(pvp_deadline_s=60, liquidity_max_wait_s=30, owner_of=lambda a: a.split("/")[0])
OPENINGS = {"A/CNY": AccountOpening(currency="CNY", amount=Decimal("100.00"), owner="A"),
            "B/CNY": AccountOpening(currency="CNY", amount=Decimal("50.00"), owner="B")}


class Ledger:
    """The real ledger functions on a book, with every state change and journal record fed to a board."""

    def __init__(self) -> None:
        self.book = Book()
        self.board = LiquidityBoard()
        self.now = 1_000.0
        self.step(pvp.open_accounts(self.book, OPENINGS, self.now, POLICY.owner_of))

    def step(self, fx: pvp.Effects) -> pvp.Effects:
        for _, key, value in self.book.changes():
            self.board.apply_state(key.encode(), value)
        self.book.commit()
        for j in fx.journal:
            self.board.apply_journal(j.model_dump_json().encode())
        return fx

    def pay(self, sid: str, src: str, dst: str, amount: str, **kw: object) -> pvp.Effects:
        req = SettlementRequest.model_validate({
            "settlement_id": sid, "uetr": sid, "sender": src, "msg_id": f"m-{sid}",
            "legs": [Leg(leg="cny", debit_account=f"{src}/CNY", credit_account=f"{dst}/CNY", currency="CNY",
                         amount=Decimal(amount))], **kw})
        return self.step(pvp.settle(self.book, req, self.now, POLICY))


def test_board_shows_balances_queue_holds_caps_lsm_runs_and_who_acted() -> None:
    led = Ledger()
    led.pay("q1", "A", "B", "150.00")  # A has 100: queued
    led.pay("q2", "B", "A", "120.00")  # B has 50: queued (gridlock)
    hold = (datetime.fromtimestamp(led.now, UTC) + timedelta(seconds=60)).isoformat()
    led.pay("c1", "B", "A", "10.00", condition_id="cond-1", hold_until=hold)  # reserved on B
    listed = led.board.participants({"A": Decimal("500")})
    assert [r.participant for r in listed] == ["B", "A"]  # both wait; B also holds
    rows = {r.participant: r for r in listed}
    assert (rows["A"].queued, rows["B"].queued, rows["B"].holds) == (1, 1, 1)
    assert rows["A"].queued_amount == {"CNY": Decimal("150.00")}
    assert rows["B"].accounts[0].reserved == Decimal("10.00")
    assert (rows["A"].cap, rows["A"].cap_by, rows["B"].cap) == (Decimal("500"), None, None)

    runs: list[pvp.OffsetRun] = []
    led.step(pvp.offset(led.book, led.now + 1, POLICY, runs))  # A -150 +120, B +150 -120: both fund the net
    assert [r.settlements for r in runs] == [2]
    [run] = led.board.lsm_runs
    assert (run.kind, run.settlements, run.accounts) == ("bilateral", 2, ("A/CNY", "B/CNY"))
    rows = {r.participant: r for r in led.board.participants({})}
    assert rows["A"].queued == 0 and rows["A"].accounts[0].balance == Decimal("70.00")

    led.step(pvp.set_cap(led.book, SetCap(command_id="cap-1", participant="B", amount=Decimal("25"), by="bo"),
                         led.now, POLICY))
    led.step(pvp.fund(led.book, Fund(account="A/CNY", fund_id="fund-1", currency="CNY", amount=Decimal("5.00"),
                                     by="bo"), led.now, POLICY))
    rows = {r.participant: r for r in led.board.participants({"B": Decimal("999")})}
    assert (rows["B"].cap, rows["B"].cap_by) == (Decimal("25"), "bo")  # the operator's over the settings'
    assert [(a.what, a.by, a.subject, a.amount) for a in led.board.actions] == [
        ("fund", "bo", "A/CNY", Decimal("5.00")), ("cap", "bo", "B", Decimal("25"))]


def test_board_counts_what_it_cannot_read_and_keeps_going() -> None:
    board = LiquidityBoard()
    board.apply_state(b"acct|X/CNY", b"{not json")
    board.apply_state(b"nokind", b"{}")
    board.apply_journal(b"[]")
    assert board.undecodable == 3 and board.participants({}) == []


class RecordingCommands:
    def __init__(self) -> None:
        self.funds: list[Fund] = []
        self.caps: list[SetCap] = []

    async def fund(self, account: str, amount: Decimal, currency: str, command_id: str, by: str) -> Fund:
        cmd = Fund(account=account, fund_id=command_id, currency=currency, amount=amount, by=by)
        self.funds.append(cmd)
        return cmd

    async def set_cap(self, participant: str, amount: Decimal | None, command_id: str, by: str) -> SetCap:
        cmd = SetCap(command_id=command_id, participant=participant, amount=amount, by=by)
        self.caps.append(cmd)
        return cmd


@pytest.fixture
def page() -> tuple[TestClient, Ledger, RecordingCommands]:
    led, commands = Ledger(), RecordingCommands()
    led.pay("q1", "A", "B", "150.00")
    desk = LiquidityDesk(led.board, commands, {}, frozenset(WEB.liquidity_operators))
    app = build_review_app(WEB, CaseBook(), RecordingSink(), liquidity=desk)
    return TestClient(app, base_url="https://review.test"), led, commands


def _form(html: str, action: str, field: str, value: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` whose ``field`` is ``value``."""
    for form in re.findall(r"<form[^>]*action=['\"]" + re.escape(action) + r"['\"].*?</form>", html, re.S):
        hidden = dict(re.findall(r"type=['\"]hidden['\"] name=['\"](\w+)['\"] value=['\"]([^'\"]*)['\"]", form))
        if hidden.get(field) == value:
            return hidden
    raise AssertionError(f"no {action} form for {field}={value}")


def test_only_signed_in_operators_see_the_view(page: tuple[TestClient, Ledger, RecordingCommands]) -> None:
    client, _, commands = page
    assert client.get("/liquidity", follow_redirects=False).headers["location"] == "/login"
    login(client, "ana")  # an analyst, not an operator
    assert client.get("/liquidity").status_code == 403
    token = csrf_of(client.get("/cases").text)
    r = client.post("/liquidity/fund", data={"csrf": token, "command_id": "fund-" + "0" * 24, "account": "A/CNY",
                                             "amount": "1"}, follow_redirects=False)
    assert r.status_code == 403 and commands.funds == []


def test_operator_funds_an_account_and_changes_a_cap(page: tuple[TestClient, Ledger, RecordingCommands]) -> None:
    client, _, commands = page
    assert login(client, "bo").status_code == 303
    html = client.get("/liquidity").text
    assert re.search(r"data-participant=\"A\".*?class=\"queued\">1<", html, re.S)  # A's payment waits
    assert "150.00 CNY" in html
    fund = _form(html, "/liquidity/fund", "account", "A/CNY")
    assert client.post("/liquidity/fund", data={**fund, "csrf": "forged", "amount": "60"}).status_code == 403
    assert client.post("/liquidity/fund", data={**fund, "amount": "1.001"}).status_code == 400  # CNY: 2 decimals
    assert client.post("/liquidity/fund", data={**fund, "amount": "-5"}).status_code == 400
    assert client.post("/liquidity/fund", data={**fund, "amount": "lots"}).status_code == 400
    assert client.post("/liquidity/fund", data={**fund, "account": "Z/CNY", "amount": "5"}).status_code == 404
    r = client.post("/liquidity/fund", data={**fund, "amount": "60.00"}, follow_redirects=True)
    assert r.status_code == 200 and "Funding of 60.00 CNY to A/CNY sent" in r.text
    assert [(f.account, f.amount, f.currency, f.fund_id, f.by) for f in commands.funds] == [
        ("A/CNY", Decimal("60.00"), "CNY", fund["command_id"], "bo")]

    cap = _form(r.text, "/liquidity/cap", "participant", "B")
    assert client.post("/liquidity/cap", data={**cap, "command_id": "bogus", "amount": "5"}).status_code == 400
    assert client.post("/liquidity/cap", data={**cap, "participant": "NOPE", "amount": "5"}).status_code == 404
    assert client.post("/liquidity/cap", data={**cap, "amount": "-1"}).status_code == 400
    assert client.post("/liquidity/cap", data={**cap, "amount": "2500"}).status_code == 200
    assert client.post("/liquidity/cap", data={**cap, "amount": ""}).status_code == 200  # removes it
    assert [(c.participant, c.amount, c.by) for c in commands.caps] == [("B", Decimal("2500"), "bo"), ("B", None, "bo")]


def test_values_from_the_ledger_are_escaped() -> None:
    board = LiquidityBoard()
    board.apply_journal(b'{"type":"CAP_SET","command_id":"c","participant":"<script>x</script>","amount":"1",'
                        b'"by":"<b>me</b>","at":"2026-12-02T00:00:00Z"}')
    desk = LiquidityDesk(board, RecordingCommands(), {"<script>x</script>": Decimal(1)}, frozenset({"bo"}))
    client = TestClient(build_review_app(WEB, CaseBook(), RecordingSink(), liquidity=desk),
                        base_url="https://review.test")
    login(client, "bo")
    html = client.get("/liquidity").text
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html and "<b>me</b>" not in html


def test_without_operators_there_is_no_view() -> None:
    client = TestClient(build_review_app(web_with_analysts(WebSettings(session_secret=SecretStr("s" * 20))),
                                         CaseBook(), RecordingSink()), base_url="https://review.test")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"csrf": token, "username": "bo", "password": PASSWORDS["bo"]})
    assert client.get("/liquidity").status_code == 404
