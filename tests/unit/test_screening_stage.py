"""The screening stage keyed by debtor: velocity rules see all of a debtor's payments, across
UETRs and across a restart (the history is the stage's committed state)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from router.config import Settings
from router.corridor.screening_view import screening_request
from router.iso20022.directory import load_directory
from router.iso20022.examples import cips_pacs008
from router.pipeline.screening_stage import ScreeningLogic
from router.screening.settings import DEMO_LIST, ScreeningSettings
from router.streams.processor import Out
from router.streams.store import Store
from tests.support.records import FakeRecord

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def demo_settings() -> Settings:
    """The fictional list only: the example debtor, 李芳卫, is a real SDN name (LI, Fangwei)."""
    return Settings(screening=ScreeningSettings(list_paths=(DEMO_LIST,)))




def request_bytes(amount: str, *, debtor_wallet: str | None = None, debtor_name: str = "李芳卫") -> tuple[bytes, bytes]:
    p = cips_pacs008(uetr=str(uuid.uuid4()), amount=Decimal(amount), debtor_wallet=debtor_wallet,
                     debtor_name=debtor_name)
    req = screening_request(p, load_directory())
    return req.model_dump_json().encode(), req.velocity_key().encode()


def results(outs: list[Out]) -> list[dict[str, object]]:
    return [json.loads(o.value or b"") for o in outs if o.topic == "screening.results"]


def test_structuring_is_caught_across_uetrs_and_survives_a_restart() -> None:
    s = demo_settings()
    threshold = s.screening.structuring_thresholds["CNY"]
    just_under = str((threshold * Decimal("0.95")).quantize(Decimal("0.01")))
    clock = {"now": T0}
    logic = ScreeningLogic(s, clock=lambda: clock["now"])
    store = Store(0)
    outcomes = []
    for i in range(s.screening.structuring_count - 1):
        clock["now"] = T0 + timedelta(minutes=i)
        value, key = request_bytes(just_under)
        outcomes += [r["outcome"] for r in results(logic.process(store, "screening.requests", FakeRecord(value, key)))]
        store.commit()
    assert outcomes == ["clear"] * (s.screening.structuring_count - 1)
    # A new process (a restart) restores the committed history and keeps counting.
    restarted = ScreeningLogic(s, clock=lambda: T0 + timedelta(hours=1))
    value, key = request_bytes(just_under)
    outs = restarted.process(store, "screening.requests", FakeRecord(value, key))
    [verdict] = results(outs)
    assert verdict["outcome"] == "hold" and "just under" in str(verdict["reason"])
    assert any(o.topic == "screening.cases" for o in outs) and any(o.topic == "screening.audit" for o in outs)


def test_a_clear_payment_is_audited_and_its_debtor_history_staged() -> None:
    s = demo_settings()
    logic = ScreeningLogic(s, clock=lambda: T0)
    store = Store(0)
    value, key = request_bytes("100.00", debtor_name="王伟")
    outs = logic.process(store, "screening.requests", FakeRecord(value, key))
    assert results(outs)[0]["outcome"] == "clear"
    audit = json.loads(next(o.value for o in outs if o.topic == "screening.audit") or b"")
    assert audit["kind"] == "automatic" and audit["list_versions"]
    assert store.staged and list(store.staged) == [key.decode()]


def test_an_undecodable_request_goes_to_the_dlq() -> None:
    logic = ScreeningLogic(demo_settings(), clock=lambda: T0)
    outs = logic.process(Store(0), "screening.requests", FakeRecord(b"{not json", b"k"))
    assert [o.topic for o in outs] == ["router.dlq"]
    assert dict(outs[0].headers)["dlq.reason.code"] == b"FF01"


def test_a_corrupt_history_value_is_kept_in_the_dlq_and_the_payment_still_screened() -> None:
    logic = ScreeningLogic(demo_settings(), clock=lambda: T0)
    store = Store(0)
    value, key = request_bytes("100.00", debtor_name="王伟")
    for bad in (b"{not json", b'[{"at": 1}]', b'"a string"', b"[1, 2]"):
        store.load("screening.velocity", key.decode(), bad)
        outs = logic.process(store, "screening.requests", FakeRecord(value, key, offset=41))
        assert results(outs)[0]["outcome"] == "clear"
        [dlq] = [o for o in outs if o.topic == "router.dlq"]
        headers = {k: v.decode() for k, v in dlq.headers}
        assert dlq.value == bad and dlq.key == key
        assert headers["dlq.reason.code"] == "FF01" and headers["dlq.stage"] == "screening"
        reason = headers["dlq.reason.text"]
        assert "corrupt screening.velocity history" in reason and "@41" in reason
        assert headers["dlq.source.topic"] == "screening.velocity"
        # The window started afresh with this payment.
        assert len(json.loads(store.get(key.decode()) or b"")) == 1
        store.rollback()


def test_an_unexpected_error_keeps_the_request_in_the_dlq(monkeypatch: pytest.MonkeyPatch) -> None:
    logic = ScreeningLogic(demo_settings(), clock=lambda: T0)
    value, key = request_bytes("100.00", debtor_name="王伟")

    def broken(*_: object) -> object:
        raise RuntimeError("list index out of step")

    monkeypatch.setattr("router.screening.velocity.screen", broken)
    store = Store(0)
    outs = logic.process(store, "screening.requests", FakeRecord(value, key, headers=[("trace", b"t1")]))
    assert [o.topic for o in outs] == ["router.dlq"]
    headers = dict(outs[0].headers)
    assert outs[0].value == value and headers["dlq.reason.code"] == b"NARR"
    assert b"RuntimeError: list index out of step" in headers["dlq.reason.text"] and headers["trace"] == b"t1"
    assert not store.staged
