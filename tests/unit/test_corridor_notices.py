"""The corridor stage gathers the postings of settled payments and tells each account's owner in
one camt.054 per ``corridor.notification_interval_s``. Postings waiting for their notification are
kept in the stage's store (and so in its changelog): a takeover sends them, nothing is lost and
nothing is told twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.bench.corridor import PARTITIONS, Driver
from connectors.fx_feed import day_quotes, latest_ecb_day
from connectors.loadgen import prebuild
from router.config import Settings, get_settings
from router.pipeline.corridor_ports import RouterPorts
from router.pipeline.corridor_stage import NOTICES, CorridorLogic
from router.streams.processor import Out


def ports(interval: float) -> RouterPorts:
    s: Settings = get_settings()
    s = s.model_copy(update={"corridor": s.corridor.model_copy(update={"notification_interval_s": interval})})
    p = RouterPorts.create(s)
    day, rates = latest_ecb_day()
    for q in day_quotes(day, rates, ts=datetime.now(UTC)):
        p.add_quote(q)
    return p


def entries(outs: list[Out]) -> list[bytes]:
    """The UETRs of every camt.054 entry in ``outs``."""
    found: list[bytes] = []
    for o in outs:
        if b"camt.054" in (dict(o.headers).get("iso.message") or b"") and o.value is not None:
            found += [part.split(b"</UETR>")[0] for part in o.value.split(b"<UETR>")[1:]]
    return found


def tick_all(d: Driver) -> list[Out]:
    outs: list[Out] = []
    for store in d.stores:
        outs += d.logic.tick(store)
        store.commit()
    return outs


def test_postings_wait_in_the_store_until_due_then_go_out_once_per_account() -> None:
    d = Driver(ports(1.0), rate=100)
    messages = prebuild(get_settings(), 30, 100.0, "steady")
    for m in messages:
        d.payment(m)
        assert entries(tick_all(d)) == []  # 0.3 s of traffic: nothing is due yet
    waiting = [k for s in d.stores for k, _ in s.scan(NOTICES)]
    assert waiting  # kept in the stores (their changelogs), not only in memory
    settled = {m.key for m in messages}
    d.now += timedelta(seconds=1)
    told: list[bytes] = []
    messages_sent = 0
    for store in d.stores:
        outs = d.logic.tick(store)
        store.commit()
        told += entries(outs)
        accounts = [o.key for o in outs if o.value is not None and b"camt.054" in o.value]
        assert len(accounts) == len(set(accounts))  # one message per account (and partition)
        messages_sent += len(accounts)
    assert len(told) == 4 * len(settled) and set(told) == settled  # every posting once
    assert messages_sent < len(told)
    assert [k for s in d.stores for k, _ in s.scan(NOTICES)] == []
    d.now += timedelta(seconds=5)
    assert tick_all(d) == []  # told once


def test_a_takeover_sends_the_postings_the_previous_owner_kept() -> None:
    p = ports(1.0)
    d = Driver(p, rate=100)
    messages = prebuild(get_settings(), 12, 100.0, "steady")
    for m in messages:
        d.payment(m)
    tick_all(d)
    # another process takes the stores over (as restored from their changelogs)
    d.logic = CorridorLogic(p, clock=lambda: d.now, journey_lines="off")
    for store in d.stores:
        d.logic.restored(store)
    told = entries(tick_all(d))
    assert sorted(told) == sorted(m.key for m in messages for _ in range(4))
    assert all(not list(s.scan(NOTICES)) for s in d.stores) and len(d.stores) == PARTITIONS


def test_interval_zero_tells_each_transactions_postings_in_that_transaction() -> None:
    d = Driver(ports(0.0), rate=100)
    for m in prebuild(get_settings(), 5, 100.0, "steady"):
        d.payment(m)
        assert sorted(entries(tick_all(d))) == [m.key] * 4
        assert all(not list(s.scan(NOTICES)) for s in d.stores)
