"""Readiness means restored: /healthz answers 503 until every stage has joined and restored."""

from __future__ import annotations

from router.health import StageHealth, readiness


def stage(name: str, *, joined: bool = True, owned: set[int] | None = None,
          restoring: set[int] | None = None) -> StageHealth:
    return StageHealth(name, joined, frozenset(owned or ()), frozenset(restoring or ()))


def test_ready_when_every_stage_joined_and_restored() -> None:
    status, body = readiness([stage("ingest", owned={0, 1}), stage("corridor", owned={0, 1})])
    assert status == 200 and body["ready"] is True
    assert body["ingest"] == {"joined": True, "partitions": [0, 1], "restoring": []}


def test_an_empty_assignment_is_ready_once_joined() -> None:
    # More replicas than partitions: the spare pod owns nothing but must not block a rollout.
    assert readiness([stage("settlement")])[0] == 200


def test_not_ready_before_joining_or_while_restoring() -> None:
    assert readiness([stage("ingest", joined=False)])[0] == 503
    status, body = readiness([stage("ingest", owned={0}), stage("corridor", owned={1}, restoring={2})])
    assert status == 503 and body["ready"] is False and body["corridor"]["restoring"] == [2]
    assert readiness([])[0] == 503, "a process running no stage is not ready"
