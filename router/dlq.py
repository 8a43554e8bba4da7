"""Dead-letter records: the original bytes, untouched, plus headers that say why and whence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from router.outcome import Reject
from router.streams.processor import Out, Record, record_headers

Headers = list[tuple[str, bytes]]

REASON_CODE = "dlq.reason.code"
REASON_TEXT = "dlq.reason.text"
STAGE = "dlq.stage"
SOURCE_TOPIC = "dlq.source.topic"
SOURCE_PARTITION = "dlq.source.partition"
SOURCE_OFFSET = "dlq.source.offset"
FAILED_AT = "dlq.failed.at"


def dlq_headers(
    reject: Reject,
    *,
    topic: str,
    partition: int,
    offset: int,
    original: Iterable[tuple[str, bytes]] = (),
    now: datetime | None = None,
) -> Headers:
    """Reason and provenance headers, followed by the record's own headers (kept for replay)."""
    at = (now or datetime.now(UTC)).isoformat()
    ours: Headers = [
        (REASON_CODE, reject.code.encode()),
        (REASON_TEXT, reject.text.encode("utf-8", "replace")[:4096]),
        (STAGE, reject.stage.encode()),
        (SOURCE_TOPIC, topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
        (FAILED_AT, at.encode()),
    ]
    return ours + [(k, v) for k, v in original if not k.startswith("dlq.")]


def dead_letter(reject: Reject, record: Record, *, key: bytes | None = None) -> Out:
    """The ``router.dlq`` record for a consumed ``record`` a stage could not process: its bytes
    untouched, under its own key (or ``key``), with ``dlq_headers``. Every stage builds its
    dead letters here."""
    headers = dlq_headers(reject, topic=record.topic, partition=record.partition, offset=record.offset,
                          original=record_headers(record))
    return Out("router.dlq", record.key if key is None else key, record.value or b"", tuple(headers))


def reason_of(headers: Iterable[tuple[str, bytes]]) -> tuple[str, str]:
    """A dead letter's (reason code, stage), from its headers: the labels of its DLQ metric."""
    code = stage = ""
    for k, v in headers:
        if k == REASON_CODE:
            code = v.decode("ascii", "replace")
        elif k == STAGE:
            stage = v.decode("ascii", "replace")
            break  # written after the reason code
    return code, stage


def header_dict(headers: Iterable[tuple[str, bytes]] | dict[str, bytes] | None) -> dict[str, str]:
    """Headers as text, for tests, the CLI and logs (last value wins)."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, dict) else headers
    return {k: (v or b"").decode("utf-8", "replace") for k, v in items}
