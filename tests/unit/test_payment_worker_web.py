"""The payment worker serves the same operations endpoints as every worker: not ready until each
stage has joined and restored its partitions, stage counters under the declared metric names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.testclient import TestClient

from router.config import Settings
from router.metrics import STAGE_RECORDS, STAGE_TASKS
from router.roles.payment_worker import web_app


@dataclass
class _Logic:
    name: str


@dataclass
class FakeProcessor:
    logic: _Logic
    stats: dict[str, int] = field(default_factory=lambda: {"records": 0, "transactions": 0})
    tasks: dict[int, Any] = field(default_factory=dict)
    pending: set[int] = field(default_factory=set)
    consumer: Any = None


def test_ready_only_once_every_stage_has_joined_and_restored() -> None:
    corridor, screening = FakeProcessor(_Logic("corridor")), FakeProcessor(_Logic("screening"))
    joined: set[str] = set()
    client = TestClient(web_app(Settings(), [corridor, screening], joined))  # type: ignore[list-item]
    assert client.get("/healthz").status_code == 503
    joined |= {"corridor", "screening"}
    corridor.pending = {0}  # assigned, state not restored yet
    assert client.get("/healthz").status_code == 503
    corridor.pending, corridor.tasks = set(), {0: object()}
    assert client.get("/healthz").status_code == 200
    assert client.get("/livez").status_code == 200


def test_metrics_carry_the_declared_stage_counters() -> None:
    corridor = FakeProcessor(_Logic("corridor"), stats={"records": 7, "transactions": 3}, tasks={0: None, 1: None})
    client = TestClient(web_app(Settings(), [corridor], {"corridor"}))  # type: ignore[list-item]
    text = client.get("/metrics").text
    assert f'{STAGE_RECORDS.name}{{stage="corridor"}} 7.0' in text
    assert f'{STAGE_TASKS.name}{{stage="corridor"}} 2.0' in text
