"""Choosing dead letters to replay: provenance, selection, refusals (pure; the broker test is
tests/integration/test_dlq_replay.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from router.dlq import dlq_headers
from router.dlq_replay import (
    REPLAY_OF,
    DeadLetter,
    Selection,
    Unreplayable,
    marker_key,
    marker_value,
    plan,
    provenance,
    replay_headers,
)
from router.outcome import Reject
from router.topics import BY_NAME, replay_horizon_ms

PREFIX = "t1."
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def letter(offset: int, *, key: bytes | None = b"u-1", code: str = "FF01", topic: str = "cips.in",
           partition: int = 0, source_offset: int = 10, dlq_partition: int = 0,
           own: tuple[tuple[str, bytes], ...] = (("sender", b"BANK"),)) -> DeadLetter:
    headers = dlq_headers(Reject(code, "why", "ingest"), topic=f"{PREFIX}{topic}", partition=partition,
                          offset=source_offset, original=own, now=AT)
    return DeadLetter(dlq_partition, offset, key, b"<Document/>", tuple(headers))


def test_provenance_reads_what_the_stages_write() -> None:
    p = provenance(letter(3, code="AM05", partition=2, source_offset=41))
    assert (p.reason_code, p.stage, p.topic, p.partition, p.offset) == ("AM05", "ingest", "t1.cips.in", 2, 41)
    assert p.failed_at == AT.isoformat()


@pytest.mark.parametrize("drop", ["dlq.source.topic", "dlq.source.partition", "dlq.source.offset", "dlq.reason.code"])
def test_a_dead_letter_without_provenance_is_unreplayable(drop: str) -> None:
    full = letter(0)
    broken = DeadLetter(0, 0, b"k", b"v", tuple(h for h in full.headers if h[0] != drop))
    with pytest.raises(Unreplayable, match=drop):
        provenance(broken)
    refused = plan([broken], Selection(keys=frozenset({"k"})), {}, PREFIX).refused
    assert [r.reason for r in refused] == [f"router.dlq[0]@0: no {drop} header"]


def test_garbled_offsets_are_unreplayable() -> None:
    bad = tuple((k, b"x" if k == "dlq.source.offset" else v) for k, v in letter(0).headers)
    with pytest.raises(Unreplayable, match="not numbers"):
        provenance(DeadLetter(0, 0, None, b"", bad))


def test_selection_by_offset_range_reason_key_and_topic() -> None:
    letters = [letter(o, key=f"u-{o}".encode(), code="FF01" if o % 2 else "AM05",
                      topic="cips.in" if o < 5 else "settlement.outcomes") for o in range(10)]
    pick = lambda sel: [d.offset for d, _ in plan(letters, sel, {}, PREFIX).replay]  # noqa: E731
    assert pick(Selection(partition=0, from_offset=2, to_offset=4)) == [2, 3, 4]
    assert pick(Selection(reasons=frozenset({"AM05"}))) == [0, 2, 4, 6, 8]
    assert pick(Selection(keys=frozenset({"u-7", "u-9"}))) == [7, 9]
    assert pick(Selection(source_topics=frozenset({"settlement.outcomes"}), reasons=frozenset({"FF01"}))) == [5, 7, 9]
    assert pick(Selection(partition=1)) == []


def test_an_offset_range_needs_a_partition_and_an_order() -> None:
    with pytest.raises(ValueError, match="needs a DLQ partition"):
        Selection(from_offset=1)
    with pytest.raises(ValueError, match="empty"):
        Selection(partition=0, from_offset=5, to_offset=4)
    with pytest.raises(ValueError, match="unknown topic"):
        Selection(source_topics=frozenset({"cips.inn"}))
    assert Selection().is_everything and not Selection(partition=0).is_everything


def test_a_replayed_letter_is_refused_the_second_time() -> None:
    d = letter(0)
    p = provenance(d)
    first = plan([d], Selection(), {}, PREFIX)
    assert [x for x, _ in first.replay] == [d]
    done = {marker_key(d, p): marker_value(d, p, at=AT, note="INC-1")}
    second = plan([d], Selection(), done, PREFIX)
    assert second.replay == ()
    assert second.refused[0].reason == f"router.dlq[0]@0: already replayed (at {AT.isoformat()})"


def test_markers_name_the_source_record_too() -> None:
    # A recreated DLQ reuses offsets; its records must not be refused for an old marker.
    old, new = letter(0, source_offset=10), letter(0, source_offset=99)
    assert marker_key(old, provenance(old)) != marker_key(new, provenance(new))
    done = {marker_key(old, provenance(old)): b"{}"}
    assert len(plan([new], Selection(), done, PREFIX).replay) == 1
    assert json.loads(marker_value(old, provenance(old), at=AT, note="n")) == {
        "dlq": "router.dlq[0]@0", "source": "t1.cips.in[0]@10", "reason": "FF01",
        "replayed_at": AT.isoformat(), "note": "n"}


def test_a_source_outside_the_deployment_is_refused() -> None:
    d = letter(0)
    refused = plan([d], Selection(), {}, "other.").refused
    assert "is not a router topic" in refused[0].reason


def test_replay_headers_are_the_originals_plus_where_from() -> None:
    d = letter(4, own=(("sender", b"BANK"), ("trace", b"t")), dlq_partition=3)
    assert replay_headers(d) == [("sender", b"BANK"), ("trace", b"t"), (REPLAY_OF, b"router.dlq[3]@4")]
    # A record that failed again after a replay names only its latest dead letter.
    again = DeadLetter(1, 9, d.key, d.value, (*d.headers, (REPLAY_OF, b"router.dlq[3]@4")))
    assert replay_headers(again)[-1] == (REPLAY_OF, b"router.dlq[1]@9")
    assert sum(k == REPLAY_OF for k, _ in replay_headers(again)) == 1


def test_markers_outlive_every_dead_letter_they_guard() -> None:
    markers = BY_NAME["router.dlq.replays"]
    assert not markers.compacted and markers.partitions == 1
    assert markers.retention_ms is not None and markers.retention_ms > replay_horizon_ms("router.dlq")
