"""The metrics wiring (``router.observe``) on real corridor steps and ledger books, no Kafka:
what counts as a finished payment, its end-to-end time, analyst decisions, holds, the liquidity
queue's depth and wait, DLQ records by reason, and consumer lag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from aiokafka.structs import TopicPartition

from router.corridor import lifecycle
from router.corridor.outbound import original_ref
from router.corridor.ports import Verdict
from router.dlq import dead_letter, reason_of
from router.fx.quote import Quote
from router.iso20022.model import StatusReport
from router.metrics import RouterMetrics
from router.observe.payments import CorridorObserver, ScreeningObserver, analyst_decision, finished, quote_ages
from router.observe.settlement import SettlementObserver, overdue, queue_depth
from router.observe.stage import LagSampler, StageObserver, lag
from router.outcome import Reject
from router.settlement import pvp
from router.settlement.model import SettlementRequest
from router.streams.processor import Out
from tests.support.records import FakeRecord
from tests.unit.test_corridor_lifecycle import NOW, FakePorts, eur_quotes, outbound, receive, sent, settle
from tests.unit.test_settlement_pvp import POLICY, Ledger, req


def sample(m: RouterMetrics, name: str, **labels: str) -> float:
    return m.registry.get_sample_value(name, labels) or 0.0


def test_a_settled_payment_finishes_once_with_its_end_to_end_time() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    asked = receive(outbound(), "cips", ports)
    assert asked.state is not None and finished(None, asked.state) is None  # still in flight
    done = settle(asked, ports)  # decided one second after the payment arrived
    assert done.state is not None
    end = finished(asked.state, done.state)
    assert end is not None and (end.outcome, end.reason, end.direction) == ("settled", "", "cips_to_corr")
    assert end.seconds == 1.0
    assert finished(done.state, done.state) is None  # a step that ends nothing new


def test_a_refusal_after_settlement_counts_but_is_not_timed_again() -> None:
    ports = FakePorts(quote_list=eur_quotes())
    done = settle(receive(outbound(), "cips", ports), ports)
    assert done.state is not None
    rjct = StatusReport(msg_id="NRDB1", created=NOW, status="RJCT", reason_code="AC04",
                        original=original_ref(done.state.payment))
    rev = lifecycle.on_receiver_status(done.state, rjct, "corr", ports, NOW)
    assert rev.state is not None
    sid = SettlementRequest.model_validate_json(sent(rev, "settlement.requests")[0].value).settlement_id
    final = settle(rev, ports, sid=sid)
    assert final.state is not None
    end = finished(rev.state, final.state)
    assert end is not None and (end.outcome, end.reason, end.seconds) == ("rejected", "AC04", None)


def test_the_corridor_observer_counts_outcomes_latency_decisions_and_holds() -> None:
    m = RouterMetrics()
    watch = CorridorObserver(m)
    ports = FakePorts(quote_list=eur_quotes(), verdict=Verdict("hold", "RR04", "name match"))
    held = receive(outbound(), "cips", ports)
    assert held.state is not None
    watch.changed(3, held.state.uetr, None, held.state)
    assert watch.holds([3]) == 1 and watch.holds([0, 1]) == 0  # only partitions this worker owns
    release = {"action": "release", "analyst": "ana", "reason": "false positive"}
    released = lifecycle.on_screening_decision(held.state, release, ports, NOW)
    assert released.state is not None
    assert analyst_decision(held.state, released.state) == "release"
    watch.changed(3, held.state.uetr, held.state, released.state)
    assert watch.holds([3]) == 0
    assert sample(m, "router_screening_decisions_total", decision="release", by="analyst") == 1
    done = settle(released, ports)
    assert done.state is not None
    watch.changed(3, held.state.uetr, released.state, done.state)
    watch.changed(3, held.state.uetr, done.state, done.state)  # redelivery: nothing new
    assert sample(m, "router_payments_total", outcome="settled", reason="") == 1
    assert sample(m, "router_payment_e2e_seconds_count", direction="cips_to_corr") == 1
    assert sample(m, "router_payment_e2e_seconds_sum", direction="cips_to_corr") == 1.0


def test_an_analyst_reject_and_a_restore_of_held_payments() -> None:
    m = RouterMetrics()
    watch = CorridorObserver(m)
    ports = FakePorts(quote_list=eur_quotes(), verdict=Verdict("hold", "RR04", "name match"))
    held = receive(outbound(), "cips", ports)
    assert held.state is not None
    rejected = lifecycle.on_screening_decision(held.state, {"action": "reject", "reason_code": "RR04"}, ports, NOW)
    assert rejected.state is not None and analyst_decision(held.state, rejected.state) == "reject"
    watch.restored(1, {held.state.uetr, "other"})
    assert watch.holds([1]) == 2
    watch.changed(1, held.state.uetr, held.state, rejected.state)
    assert watch.holds([1]) == 1
    assert sample(m, "router_payments_total", outcome="rejected", reason="RR04") == 1


def test_screening_rules_decisions_by_verdict() -> None:
    m = RouterMetrics()
    watch = ScreeningObserver(m)
    for outcome in ("clear", "clear", "hold"):
        watch.decided(outcome)
    assert sample(m, "router_screening_decisions_total", decision="clear", by="rules") == 2
    assert sample(m, "router_screening_decisions_total", decision="hold", by="rules") == 1


def test_quote_age_is_the_newest_per_pair_and_provider() -> None:
    quotes = [Quote(pair="EUR/CNY", bid=Decimal("7.7"), ask=Decimal("7.74"), ts=NOW - timedelta(seconds=s),
                    provider=p) for s, p in ((30, "A"), (5, "A"), (90, "B"))]
    assert quote_ages(quotes, NOW) == {("EUR/CNY", "A"): 5.0, ("EUR/CNY", "B"): 90.0}


def test_queue_depth_overdue_and_the_wait_of_a_queued_settlement() -> None:
    m = RouterMetrics()
    watch = SettlementObserver(m)
    ledger = Ledger()
    fx = ledger.settle(req("S1", "500.00", "10.00"))  # CN1 holds 100 CNY: queued
    watch.outcomes(ledger.book, fx.outcomes, ledger.now)
    assert [o.decision for o in fx.outcomes] == ["PENDING"]
    assert queue_depth([ledger.book]) == {"CNY": 1, "USD": 1}
    assert overdue([ledger.book], ledger.now) == 0
    assert overdue([ledger.book], ledger.now + POLICY.liquidity_max_wait_s) == 1  # past its queue deadline
    ledger.now += 4
    fx = ledger.fund("CN1/CNY", "1000.00", "F1")  # liquidity arrives: the queued settlement books
    watch.outcomes(ledger.book, fx.outcomes, ledger.now)
    assert [o.decision for o in fx.outcomes] == ["COMMIT"]
    assert queue_depth([ledger.book]) == {}
    assert sample(m, "router_liquidity_queue_wait_seconds_count", currency="CNY") == 1
    assert sample(m, "router_liquidity_queue_wait_seconds_sum", currency="USD") == 4.0


def test_a_queued_settlement_restored_from_the_changelog_is_still_timed() -> None:
    m = RouterMetrics()
    ledger = Ledger()
    ledger.settle(req("S1", "500.00", "10.00"))
    watch = SettlementObserver(m)  # a new worker: the queue comes from its restored book
    watch.restored(ledger.book)
    ledger.now += POLICY.liquidity_max_wait_s
    fx = ledger.apply(pvp.expire(ledger.book, ledger.now))
    watch.outcomes(ledger.book, fx.outcomes, ledger.now)
    assert [o.decision for o in fx.outcomes] == ["ABORT"]
    assert sample(m, "router_liquidity_queue_wait_seconds_sum", currency="CNY") == POLICY.liquidity_max_wait_s


def test_stage_observer_times_commits_and_counts_dead_letters_by_reason() -> None:
    m = RouterMetrics()
    watch = StageObserver(m, "corridor")
    bad = FakeRecord(b"not xml", b"k", topic="cips.in")
    dead = dead_letter(Reject("FF01", "not XML", "intake"), bad)  # type: ignore[arg-type]
    assert reason_of(dead.headers) == ("FF01", "intake")
    watch.committed(0.004, [Out("corr.out", b"k", b"x"), dead, dead])
    watch.restored(0.5)
    assert sample(m, "router_stage_commit_seconds_count", stage="corridor") == 1
    assert sample(m, "router_stage_commit_seconds_bucket", stage="corridor", le="0.005") == 1
    assert sample(m, "router_dlq_records_total", reason="FF01", stage="intake") == 2
    assert sample(m, "router_stage_restore_seconds_count", stage="corridor") == 1


def test_lag_is_the_distance_to_the_end_never_negative() -> None:
    assert lag(120, 100) == 20
    assert lag(100, 100) == 0
    assert lag(100, 101) == 0  # the end was read before the last fetch moved the position
    assert lag(None, 5) is None


class _Consumer:
    def __init__(self, ends: dict[TopicPartition, int | None], positions: dict[TopicPartition, int]) -> None:
        self.ends, self.positions = ends, positions

    def assignment(self) -> set[TopicPartition]:
        return set(self.ends)

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return self.ends[tp]

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends[tp]

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]


@dataclass
class _Proc:
    consumer: _Consumer
    tasks: dict[int, object]
    group_id: str = "app.corridor"

    def logical(self, physical: str) -> str:
        return physical.removeprefix("x.")


async def test_lag_is_sampled_per_owned_partition_and_dropped_when_it_moves_away() -> None:
    m = RouterMetrics()
    a, b, c = TopicPartition("x.cips.in", 0), TopicPartition("x.cips.in", 1), TopicPartition("x.corr.in", 2)
    proc = _Proc(_Consumer({a: 120, b: None, c: 50}, {a: 100, b: 0, c: 50}), {0: object(), 1: object()})
    sampler = LagSampler(m, proc)  # type: ignore[arg-type]
    await sampler()
    assert sample(m, "router_consumer_lag", group="app.corridor", topic="cips.in", partition="0") == 20
    assert m.registry.get_sample_value("router_consumer_lag", {"group": "app.corridor", "topic": "cips.in",
                                                               "partition": "1"}) is None  # nothing fetched yet
    assert m.registry.get_sample_value("router_consumer_lag", {"group": "app.corridor", "topic": "corr.in",
                                                               "partition": "2"}) is None  # not restored yet
    proc.consumer = _Consumer({b: 10}, {b: 4})  # partition 0 went to another worker
    await sampler()
    assert m.registry.get_sample_value("router_consumer_lag", {"group": "app.corridor", "topic": "cips.in",
                                                               "partition": "0"}) is None
    assert sample(m, "router_consumer_lag", group="app.corridor", topic="cips.in", partition="1") == 6
