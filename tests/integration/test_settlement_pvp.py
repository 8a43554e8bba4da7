"""PvP settlement on the real broker, through `router settle-worker` child processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from router.bench import settlement_load as loadgen
from router.config import Settings
from router.dlq import header_dict
from router.ledger_reader import check_ledger, fund, read_balances
from router.procs import settings_env
from router.settlement.model import JOURNAL, Booked, Opened, SettlementRequest
from router.settlement.settings import AccountOpening
from tests.support.kafka import consume, produce

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

D = Decimal
OPENING = {
    "CN1/CNY": AccountOpening(currency="CNY", amount=D("1000.00"), owner="CN1"),
    "FX/CNY": AccountOpening(currency="CNY", amount=D("0.00"), owner="FX"),
    "FX/USD": AccountOpening(currency="USD", amount=D("100.00"), owner="FX"),
    "US1/USD": AccountOpening(currency="USD", amount=D("0.00"), owner="US1"),
}


def req(n: int, cny: str, usd: str, msg_id: str | None = None) -> SettlementRequest:
    uetr = f"00000000-0000-4000-8000-{n:012d}"
    legs = loadgen.legs_for(debtor="CN1", creditor="US1", fx_provider="FX", cny_amount=D(cny),
                            foreign_currency="USD", foreign_amount=D(usd))
    return SettlementRequest(settlement_id=uetr, uetr=uetr, sender="CN1", msg_id=msg_id or f"MSG{n}", legs=legs)


@pytest.fixture
async def env(topics: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    s = topics.model_copy(update={"settlement": topics.settlement.model_copy(update={
        "opening_balances": OPENING, "liquidity_max_wait_s": 4.0, "pvp_deadline_s": 60.0})})
    w = await asyncio.to_thread(loadgen.start_worker, s, tmp_path / "worker.log", "it")
    try:
        yield s
    finally:
        w.stop()
        assert "Traceback" not in w.output(), w.output()[-3000:]


async def settle(s: Settings, *reqs: SettlementRequest, finals: int, timeout: float = 30) -> loadgen.OutcomeCollector:
    async with loadgen.OutcomeCollector(s) as col:
        await loadgen.produce_requests(s, reqs)
        assert await col.until(finals, timeout), [o.decision for o in col.outcomes]
        await col.until(finals + 1, 1.0)  # let stragglers (duplicate answers) arrive
        return col


async def test_happy_path_commits_both_legs_and_reports_balances(env: Settings) -> None:
    # bad input first: it goes to the DLQ with its original bytes and does not stop the worker
    await produce(env, "settlement.requests", b'{"type": "REQUEST", "legs": "nonsense"}', key=b"junk")
    r = req(1, "700.00", "98.00")
    col = await settle(env, r, finals=1)
    (out,) = col.finals.values()
    assert (out.decision, out.status, out.reason, out.legs_booked) == ("COMMIT", "ACSC", None, ("cny", "foreign"))
    assert {(p.account, p.direction, p.amount, p.balance_after) for p in out.postings} == {
        ("CN1/CNY", "DBIT", D("700.00"), D("300.00")), ("FX/CNY", "CRDT", D("700.00"), D("700.00")),
        ("FX/USD", "DBIT", D("98.00"), D("2.00")), ("US1/USD", "CRDT", D("98.00"), D("98.00"))}
    balances = await read_balances(env)
    assert {a: (b.balance, b.reserved) for a, b in balances.items()} == {
        "CN1/CNY": (D("300.00"), 0), "FX/CNY": (D("700.00"), 0), "FX/USD": (D("2.00"), 0),
        "US1/USD": (D("98.00"), 0)}
    # The journal: the four openings (genesis), then one record with both legs' postings.
    events = await consume(env, "settlement.events", until=lambda rs: len(rs) >= 5, timeout=10)
    journal = [JOURNAL.validate_json(x.value) for x in events]
    assert sorted(j.account for j in journal if isinstance(j, Opened)) == sorted(OPENING)
    booked = [j for j in journal if isinstance(j, Booked)]
    assert [(b.settlement_id, b.decision, len(b.postings)) for b in booked] == [(r.settlement_id, "COMMIT", 4)]
    report = await check_ledger(env, wait_s=10)
    assert report.ok and (report.settlements, report.commits, report.aborts) == (1, 1, 0), report.violations
    (dead,) = await consume(env, "router.dlq", until=lambda rs: len(rs) >= 1, timeout=10)
    assert dead.key == b"junk" and dead.value == b'{"type": "REQUEST", "legs": "nonsense"}'
    assert header_dict(dead.headers)["dlq.reason.code"] == "FF01"


async def test_insufficient_funds_queue_then_abort_am04_with_nothing_booked(env: Settings) -> None:
    r = req(2, "10.00", "150.00")  # FX has only 100 USD
    col = await settle(env, r, finals=1, timeout=30)
    decisions = [(o.decision, o.status, o.reason) for o in col.outcomes]
    assert decisions == [("PENDING", "PDNG", "AM04"), ("ABORT", "RJCT", "AM04")]
    pdng_at, final_at = col.timestamps
    assert final_at - pdng_at >= 3500  # it waited (about the 4 s queue wait) before giving up
    balances = await read_balances(env)
    assert balances["CN1/CNY"].balance == D("1000.00") and balances["CN1/CNY"].reserved == 0
    assert balances["FX/USD"].balance == D("100.00") and balances["FX/USD"].reserved == 0
    report = await check_ledger(env, wait_s=10)
    assert report.ok and report.aborts == 1 and report.abort_reasons == {"AM04": 1}, report.violations


async def test_liquidity_arriving_while_queued_commits(env: Settings) -> None:
    async with loadgen.OutcomeCollector(env) as col:
        await loadgen.produce_requests(env, [req(3, "10.00", "150.00")])
        assert await col.until(1, 0) is False
        while not col.outcomes:
            await col.until(1, 0.2)
        assert col.outcomes[0].status == "PDNG"
        await fund(env, "FX/USD", D("60.00"), "USD", "topup-1")
        assert await col.until(1, 20)
    (out,) = col.finals.values()
    assert (out.decision, out.status) == ("COMMIT", "ACSC")
    usd = {p.account: p.balance_after for p in out.postings if p.currency == "USD"}
    assert usd == {"FX/USD": D("10.00"), "US1/USD": D("150.00")}
    report = await check_ledger(env, wait_s=10)
    assert report.ok and report.commits == 1, report.violations
    assert report.currencies["USD"] == {"opening": "100.00", "funded": "60.00", "balances": "160.00",
                                        "reserved": "0"}


async def test_duplicate_uetr_and_reused_msgid_are_never_booked_twice(env: Settings) -> None:
    first = req(4, "100.00", "10.00")
    again = first.model_copy(update={"msg_id": "RESENT"})  # same UETR
    reuse = req(5, "100.00", "10.00", msg_id=first.msg_id)  # new UETR, same sender MsgId
    async with loadgen.OutcomeCollector(env) as col:
        await loadgen.produce_requests(env, [first])
        assert await col.until(1, 20)
        await loadgen.produce_requests(env, [again, reuse])
        assert await col.until(2, 20)
        await col.until(3, 2.0)
    by_decision = sorted((o.settlement_id, o.decision, o.reason, o.duplicate_of) for o in col.outcomes)
    assert by_decision == sorted([
        (first.settlement_id, "COMMIT", None, None),
        (first.settlement_id, "DUPLICATE", "AM05", first.settlement_id),
        (reuse.settlement_id, "ABORT", "AM05", first.settlement_id),
    ])
    balances = await read_balances(env)
    assert balances["CN1/CNY"].balance == D("900.00") and balances["CN1/CNY"].reserved == 0
    report = await check_ledger(env, wait_s=10)
    assert report.ok, report.violations
    assert (report.settlements, report.commits, report.aborts, report.duplicates_answered) == (2, 1, 1, 1)


async def test_cli_check_balances_and_fund_use_the_topic_prefix(env: Settings) -> None:
    await settle(env, req(6, "5.00", "1.00"), finals=1)
    cmd = [sys.executable, "-m", "router", "ledger"]
    e = settings_env(env)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cmd, *args], env=e, capture_output=True, text=True, timeout=60)

    funded = await asyncio.to_thread(run, "fund", "US1/USD", "2.50", "usd", "--fund-id", "cli-1")
    assert funded.returncode == 0, funded.stderr
    assert json.loads(funded.stdout)["fund_id"] == "cli-1"
    bad = await asyncio.to_thread(run, "fund", "US1/USD", "2.505", "USD")
    assert bad.returncode == 2 and "decimals" in bad.stderr
    report = await check_ledger(env, wait_s=10)  # waits for the funding to be booked
    assert report.currencies["USD"]["funded"] == "2.50", report.as_dict()
    check = await asyncio.to_thread(run, "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["commits"] == 1
    bal = await asyncio.to_thread(run, "balances", "--json")
    rows = {r["account"]: r for r in json.loads(bal.stdout)}
    assert rows["US1/USD"]["balance"] == "3.50"
