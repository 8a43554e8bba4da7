from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from router.tracker.journey import Hop, PaymentOutcome, Stage, record

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
U = "7b0c4f7e-1111-4a2b-9c3d-000000000001"


def hop(stage: Stage, minutes: int, reason: str | None = None) -> Hop:
    return Hop(uetr=U, stage=stage, at=T0 + timedelta(minutes=minutes), id=f"{stage}-{minutes}", reason=reason)


def fold(*hops: Hop) -> object:
    j = None
    for h in hops:
        j = record(j, h)
    return j


def test_happy_path_is_settled() -> None:
    j = fold(hop(Stage.RECEIVED, 0), hop(Stage.SCREENED, 1), hop(Stage.PRICED, 2), hop(Stage.SETTLED, 3),
             hop(Stage.DELIVERED, 4))
    assert j.outcome is PaymentOutcome.SETTLED  # type: ignore[attr-defined]
    assert [h.stage for h in j.hops][-1] is Stage.DELIVERED  # type: ignore[attr-defined]


def test_hold_then_release_then_settle() -> None:
    j = fold(hop(Stage.RECEIVED, 0), hop(Stage.HELD, 1, "RR04"))
    assert j.outcome is PaymentOutcome.HELD  # type: ignore[attr-defined]
    j = record(j, hop(Stage.RELEASED, 5))  # type: ignore[arg-type]
    assert j.outcome is PaymentOutcome.IN_FLIGHT
    assert record(j, hop(Stage.SETTLED, 6)).outcome is PaymentOutcome.SETTLED


def test_return_after_settlement_wins() -> None:
    j = fold(hop(Stage.SETTLED, 1), hop(Stage.RETURNED, 9, "AC04"))
    assert j.outcome is PaymentOutcome.RETURNED  # type: ignore[attr-defined]
    assert j.reason == "AC04"  # type: ignore[attr-defined]


def test_rejection_carries_its_reason() -> None:
    j = fold(hop(Stage.RECEIVED, 0), hop(Stage.REJECTED, 1, "AM04"))
    assert (j.outcome, j.reason) == (PaymentOutcome.REJECTED, "AM04")  # type: ignore[attr-defined]


@given(st.permutations(list(Stage)), st.integers(min_value=1, max_value=3))
def test_fold_is_order_and_redelivery_tolerant(stages: list[Stage], repeats: int) -> None:
    hops = [hop(s, i) for i, s in enumerate(stages)]
    forward = fold(*hops)
    shuffled = fold(*(list(reversed(hops)) * repeats))
    assert forward == shuffled
    assert len(forward.hops) == len(stages)  # type: ignore[attr-defined]
