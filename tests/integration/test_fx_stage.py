"""The fx stage on the real broker: quotes on fx.rates price requests; redelivery keeps the lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.fx_feed import run_feed
from router.config import Settings
from router.dlq import header_dict
from tests.support.kafka import consume, produce, start_worker

pytestmark = pytest.mark.integration


def with_fx(s: Settings, **fx: Any) -> Settings:
    return s.model_copy(update={"fx": s.fx.model_copy(update=fx)})


def quote(pair: str, bid: str, ask: str, provider: str, ts: datetime | None = None) -> bytes:
    t = (ts or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return json.dumps({"pair": pair, "bid": bid, "ask": ask, "ts": t, "provider": provider}).encode()


def request(uetr: str, amount: str, ccy_in: str, ccy_out: str) -> bytes:
    return json.dumps({"uetr": uetr, "amount": amount, "currency_in": ccy_in, "currency_out": ccy_out}).encode()


def results(records: list[Any], uetr: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.key == uetr.encode()]


def final(records: list[Any], uetr: str, n: int = 1) -> bool:
    return len([d for d in results(records, uetr) if d["status"] != "WAITING"]) >= n


async def test_quotes_price_a_payment_and_redelivery_keeps_the_lock(
    topics: Settings, tmp_path: Path
) -> None:
    s = with_fx(topics, spread_bps=Decimal(25))
    worker = start_worker(s, tmp_path / "w.log", "--stages", "fx")
    try:
        # Two providers compete on USD/CNY; FXP2 sells USD cheaper, so a CNY payer gets more USD there.
        await produce(s, "fx.rates", quote("USD/CNY", "7.1012", "7.1188", "FXP1"), key=b"USD/CNY")
        await produce(s, "fx.rates", quote("USD/CNY", "7.1000", "7.1100", "FXP2"), key=b"USD/CNY")
        u1 = "8a562c67-ca16-48ba-b074-65581be6f011"
        await produce(s, "fx.requests", request(u1, "1000.00", "CNY", "USD"), key=u1.encode())
        recs = await consume(s, "fx.priced", until=lambda r: final(r, u1), timeout=60)
        first = next(d for d in results(recs, u1) if d["status"] != "WAITING")
        assert first["status"] == "PRICED", first
        assert first["provider"] == "FXP2" and first["route"] == ["CNY", "USD"]
        expected = (Decimal("1000.00") / Decimal("7.1100") * (1 - Decimal("0.0025"))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        assert Decimal(first["amount_out"]) == expected == Decimal("140.30")
        assert first["reused"] is False

        # A much better quote arrives; new payments get it once the table has it ...
        await produce(s, "fx.rates", quote("USD/CNY", "6.9000", "6.9100", "FXP3"), key=b"USD/CNY")
        providers = []
        for i in range(10):
            u2 = f"0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2{i:02d}"
            await produce(s, "fx.requests", request(u2, "1000.00", "CNY", "USD"), key=u2.encode())
            recs = await consume(s, "fx.priced", until=lambda r, u=u2: final(r, u), timeout=60)
            providers.append(results(recs, u2)[-1]["provider"])
            if providers[-1] == "FXP3":
                break
        assert providers[-1] == "FXP3", providers

        # ... but the redelivered first payment keeps its locked quote, rate and amount.
        await produce(s, "fx.requests", request(u1, "1000.00", "CNY", "USD"), key=u1.encode())
        recs = await consume(s, "fx.priced", until=lambda r: final(r, u1, 2), timeout=60)
        again = [d for d in results(recs, u1) if d["status"] != "WAITING"][1]
        assert again["reused"] is True
        for k in ("quote_id", "rate", "amount_out", "provider", "expires_at", "xchg_rate"):
            assert again[k] == first[k], k

        # The same UETR with a different amount is a conflicting duplicate, not a second pricing.
        await produce(s, "fx.requests", request(u1, "2000.00", "CNY", "USD"), key=u1.encode())
        recs = await consume(s, "fx.priced", until=lambda r: final(r, u1, 3), timeout=60)
        dup = [d for d in results(recs, u1) if d["status"] != "WAITING"][2]
        assert dup["status"] == "REJECTED" and dup["reason_code"] == "AM05"
    finally:
        worker.stop()
    assert "Traceback" not in worker.output()


async def test_payment_waits_for_a_fresh_quote_then_prices_or_times_out(
    topics: Settings, tmp_path: Path
) -> None:
    s = with_fx(topics, max_wait_s=6.0, retry_interval_s=0.5)
    worker = start_worker(s, tmp_path / "w.log", "--stages", "fx")
    try:
        waits, gives_up, bad = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", \
            "33333333-3333-4333-8333-333333333333"
        await produce(s, "fx.requests", request(waits, "500", "JPY", "SGD"), key=waits.encode())
        await produce(s, "fx.requests", request(gives_up, "10.00", "CNY", "THB"), key=gives_up.encode())
        await produce(s, "fx.requests", b'{"uetr": "x", "amount": 12.5}', key=bad.encode())
        recs = await consume(s, "fx.priced", until=lambda r: bool(results(r, waits)), timeout=60)
        assert results(recs, waits)[0]["status"] == "WAITING"
        # The quotes arrive during the wait: JPY -> SGD has no direct quote, so it crosses via USD.
        await produce(s, "fx.rates", quote("USD/JPY", "150.00", "150.20", "FXP1"), key=b"USD/JPY")
        await produce(s, "fx.rates", quote("USD/SGD", "1.3400", "1.3410", "FXP1"), key=b"USD/SGD")
        recs = await consume(s, "fx.priced", until=lambda r: final(r, waits) and final(r, gives_up), timeout=60)
        priced = next(d for d in results(recs, waits) if d["status"] != "WAITING")
        assert priced["status"] == "PRICED" and priced["route"] == ["JPY", "USD", "SGD"]
        exact = Decimal(500) / Decimal("150.20") * Decimal("1.3400")
        assert Decimal(priced["amount_out"]) == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        timed_out = next(d for d in results(recs, gives_up) if d["status"] != "WAITING")
        assert timed_out["status"] == "REJECTED" and timed_out["reason_code"] == "AB03"
        assert "THB" in timed_out["reason"]
        rejected = [d for d in results(recs, bad)]
        assert rejected and rejected[0]["status"] == "REJECTED" and rejected[0]["reason_code"] == "FF01"
        dlq = await consume(s, "router.dlq", until=lambda r: len(r) >= 1, timeout=30)
        assert dlq[0].value == b'{"uetr": "x", "amount": 12.5}'
        assert header_dict(dlq[0].headers)["dlq.stage"] == "fx"
    finally:
        worker.stop()
    assert "Traceback" not in worker.output()


async def test_locks_survive_a_worker_restart_and_ecb_feed_quotes_price(topics: Settings, tmp_path: Path) -> None:
    s = topics
    # The connector publishes one real ECB day (bundled history) as quotes to this test's fx.rates.
    sent = await run_feed(bootstrap=s.kafka.bootstrap_servers, topic_prefix=s.kafka.topic_prefix, once=True,
                          spread_bps=Decimal(10))
    assert sent > 20
    uetr = "44444444-4444-4444-8444-444444444444"
    worker = start_worker(s, tmp_path / "w1.log", "--stages", "fx")
    try:
        await produce(s, "fx.requests", request(uetr, "1000.00", "CNY", "THB"), key=uetr.encode())
        recs = await consume(s, "fx.priced", until=lambda r: final(r, uetr), timeout=60)
    finally:
        worker.stop()
    first = next(d for d in results(recs, uetr) if d["status"] != "WAITING")
    assert first["status"] == "PRICED" and first["provider"] == "ECB-REPLAY"
    assert first["route"] == ["CNY", "USD", "THB"]  # the feed quotes USD/xxx and EUR/xxx only
    # A fresh worker restores the lock table from its changelog; newer quotes do not reprice.
    await produce(s, "fx.rates", quote("USD/CNY", "1.0000", "1.0001", "CHEAP"), key=b"USD/CNY")
    worker = start_worker(s, tmp_path / "w2.log", "--stages", "fx")
    try:
        await produce(s, "fx.requests", request(uetr, "1000.00", "CNY", "THB"), key=uetr.encode())
        recs = await consume(s, "fx.priced", until=lambda r: final(r, uetr, 2), timeout=60)
    finally:
        worker.stop()
    again = [d for d in results(recs, uetr) if d["status"] != "WAITING"][1]
    assert again["reused"] is True
    assert (again["quote_id"], again["amount_out"], again["rate"]) == (
        first["quote_id"], first["amount_out"], first["rate"])


async def test_two_workers_both_see_every_quote(topics: Settings, tmp_path: Path) -> None:
    """Scale-out: requests are spread over both workers by UETR; the quotes table is global."""
    from tests.support.kafka import free_port

    s = topics
    await produce(s, "fx.rates", quote("USD/CNY", "7.1000", "7.1100", "FXP1"), key=b"USD/CNY")
    other = s.model_copy(update={"web": s.web.model_copy(update={"port": free_port()})})
    w1 = start_worker(s, tmp_path / "w1.log", "--stages", "fx")
    w2 = start_worker(other, tmp_path / "w2.log", "--stages", "fx")
    uetrs = [f"55555555-5555-4555-8555-5555555555{i:02d}" for i in range(16)]
    try:
        for u in uetrs:
            await produce(s, "fx.requests", request(u, "100.00", "CNY", "USD"), key=u.encode())
        recs = await consume(s, "fx.priced", until=lambda r: all(final(r, u) for u in uetrs), timeout=90)
    finally:
        w1.stop()
        w2.stop()
    # No payment had to wait: whichever worker owns its partition already had the quote.
    outcomes = [d for u in uetrs for d in results(recs, u)]
    assert len(outcomes) == len(uetrs)
    assert all(d["status"] == "PRICED" and d["amount_out"] == "14.06" for d in outcomes), outcomes
    logs = w1.output() + w2.output()
    assert "Traceback" not in logs
