"""Structured logs: a line written while a stage processes a record names the payment (UETR),
the stage, the partition and the offset, in JSON or in text as ``log_format`` says."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from router.config import Settings
from router.log_context import CURRENT, PaymentContext, looks_like_uetr, uetr_of
from router.logs import configure_logging
from tests.support.records import FakeRecord

UETR = "eb6305c9-1f7f-49de-aed0-16487c27b42d"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO(), logging.getLogger("router.test")
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    CURRENT.set(None)


def _to(stream: io.StringIO) -> None:
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def test_a_uetr_is_a_uuid_and_comes_from_the_header_before_the_key() -> None:
    assert looks_like_uetr(UETR) and not looks_like_uetr("ICBKCNBJ/CNY") and not looks_like_uetr("x" * 36)
    assert uetr_of(UETR.encode(), []) == UETR
    assert uetr_of(b"debtor-key", [("uetr", UETR.encode())]) == UETR  # screening requests: keyed by debtor
    assert uetr_of(b"ICBKCNBJ/CNY", None) is None


def test_json_lines_carry_the_record_being_processed(captured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = captured
    configure_logging(Settings(log_format="json"))
    _to(stream)
    CURRENT.set(("corridor", 2, FakeRecord(b"<xml/>", UETR.encode(), topic="p.cips.in", partition=2, offset=41)))
    log.warning("priced %s", "it")
    CURRENT.set(("corridor", 2, None))  # the stage's timer: no record
    log.info("swept")
    CURRENT.set(None)
    log.info("started")
    first, timer, plain = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "priced it" and first["level"] == "WARNING" and first["logger"] == "router.test"
    assert (first["uetr"], first["stage"], first["partition"], first["offset"], first["topic"]) == (
        UETR, "corridor", 2, 41, "p.cips.in")
    assert first["time"].endswith(("Z", "+00:00"))  # UTC
    assert timer["stage"] == "corridor" and timer["partition"] == 2 and "offset" not in timer and "uetr" not in timer
    assert not {"uetr", "stage", "partition", "offset"} & set(plain)


def test_values_passed_by_the_caller_win_over_the_context(captured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = captured
    configure_logging(Settings(log_format="json"))
    _to(stream)
    other = "0b9f6e5a-3c0e-4a57-9f1e-2f1d9c0b7a11"
    CURRENT.set(("corridor", 0, FakeRecord(b"", UETR.encode(), partition=0, offset=7)))
    log.info("retry", extra={"uetr": other, "hop": "priced"})
    line = json.loads(stream.getvalue())
    assert line["uetr"] == other and line["hop"] == "priced" and line["offset"] == 7


def test_text_format_is_one_plain_line(captured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = captured
    configure_logging(Settings(log_format="text"))
    _to(stream)
    log.info("hello")
    assert stream.getvalue().rstrip().endswith("INFO router.test: hello")


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("ROUTER_LOG_FORMAT", "yaml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()


def test_the_filter_leaves_lines_outside_a_stage_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert PaymentContext().filter(record) and not hasattr(record, "uetr")
