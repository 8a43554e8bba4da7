"""Choosing DLQ records to replay, and refusing a second replay of the same one.

A dead letter carries the original record (key, bytes, own headers) plus ``dlq.*`` headers that say
why and where it came from (``router.dlq``). Replaying one means writing the original back to its
source topic and partition once the cause is fixed. ``router dlq replay`` does that in one Kafka
transaction together with a marker on ``router.dlq.replays`` per record, so a record replayed once
is refused the next time. This module holds the rules; ``router.dlq_kafka`` does the I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from router import dlq
from router.topics import BY_NAME

Headers = tuple[tuple[str, bytes], ...]

# On a replayed record: which dead letter it came from (kept if it lands in the DLQ again).
REPLAY_OF = "router.replay.of"
REQUIRED = (dlq.REASON_CODE, dlq.SOURCE_TOPIC, dlq.SOURCE_PARTITION, dlq.SOURCE_OFFSET)


class Unreplayable(ValueError):
    """A dead letter that cannot go back: its provenance headers are missing or garbled."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of ``router.dlq``, with its own position there."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers

    @property
    def where(self) -> str:
        return f"router.dlq[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class Provenance:
    reason_code: str
    reason_text: str
    stage: str
    topic: str  # the physical source topic (deployment prefix included)
    partition: int
    offset: int
    failed_at: str

    @property
    def where(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def provenance(letter: DeadLetter) -> Provenance:
    h = dlq.header_dict(letter.headers)
    missing = [k for k in REQUIRED if not h.get(k)]
    if missing:
        raise Unreplayable(f"{letter.where}: no {', '.join(missing)} header")
    try:
        partition, offset = int(h[dlq.SOURCE_PARTITION]), int(h[dlq.SOURCE_OFFSET])
    except ValueError as exc:
        raise Unreplayable(f"{letter.where}: source partition/offset are not numbers") from exc
    if partition < 0 or offset < 0:
        raise Unreplayable(f"{letter.where}: negative source partition/offset")
    return Provenance(h[dlq.REASON_CODE], h.get(dlq.REASON_TEXT, ""), h.get(dlq.STAGE, ""),
                      h[dlq.SOURCE_TOPIC], partition, offset, h.get(dlq.FAILED_AT, ""))


def logical_topic(physical: str, prefix: str) -> str | None:
    """The declared topic behind a physical name, or None if it is not one of ours."""
    if not physical.startswith(prefix):
        return None
    name = physical[len(prefix):]
    return name if name in BY_NAME else None


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters to replay. Every given criterion must hold; offsets are inclusive."""

    partition: int | None = None
    from_offset: int | None = None
    to_offset: int | None = None
    reasons: frozenset[str] = field(default_factory=frozenset)
    keys: frozenset[str] = field(default_factory=frozenset)
    source_topics: frozenset[str] = field(default_factory=frozenset)  # logical names

    def __post_init__(self) -> None:
        if self.from_offset is not None and self.to_offset is not None and self.from_offset > self.to_offset:
            raise ValueError(f"offset range {self.from_offset}..{self.to_offset} is empty")
        if (self.from_offset is not None or self.to_offset is not None) and self.partition is None:
            # Offsets are per partition: a range without one would pick unrelated records.
            raise ValueError("an offset range needs a DLQ partition")
        unknown = sorted(self.source_topics - set(BY_NAME))
        if unknown:
            raise ValueError(f"unknown topic(s) {', '.join(unknown)}")

    @property
    def is_everything(self) -> bool:
        return self == Selection()

    def matches(self, letter: DeadLetter, prov: Provenance | None, prefix: str) -> bool:
        if self.partition is not None and letter.partition != self.partition:
            return False
        if self.from_offset is not None and letter.offset < self.from_offset:
            return False
        if self.to_offset is not None and letter.offset > self.to_offset:
            return False
        if self.keys and (letter.key or b"").decode("utf-8", "replace") not in self.keys:
            return False
        if self.reasons and (prov is None or prov.reason_code not in self.reasons):
            return False
        return not self.source_topics or (
            prov is not None and logical_topic(prov.topic, prefix) in self.source_topics)


def marker_key(letter: DeadLetter, prov: Provenance) -> bytes:
    # The DLQ position alone would clash if router.dlq were ever recreated; the source position
    # names the original record.
    return f"{letter.where} <- {prov.where}".encode()


def marker_value(letter: DeadLetter, prov: Provenance, *, at: datetime, note: str) -> bytes:
    return json.dumps({"dlq": letter.where, "source": prov.where, "reason": prov.reason_code,
                       "replayed_at": at.isoformat(), "note": note}, sort_keys=True).encode()


def replay_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The record's own headers as it was first sent, plus where it is replayed from."""
    own = [(k, v) for k, v in letter.headers if not k.startswith("dlq.") and k != REPLAY_OF]
    return [*own, (REPLAY_OF, letter.where.encode())]


@dataclass(frozen=True, slots=True)
class Refusal:
    letter: DeadLetter
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    replay: tuple[tuple[DeadLetter, Provenance], ...]
    refused: tuple[Refusal, ...]


def plan(letters: Iterable[DeadLetter], selection: Selection, replayed: Mapping[bytes, bytes],
         prefix: str) -> Plan:
    """What a replay would do: the chosen dead letters that may go back, and the ones refused, with why.

    ``replayed`` maps marker keys already written to their marker values.
    """
    go: list[tuple[DeadLetter, Provenance]] = []
    refused: list[Refusal] = []
    for letter in letters:
        try:
            prov: Provenance | None = provenance(letter)
            problem = ""
        except Unreplayable as exc:
            prov, problem = None, str(exc)
        if not selection.matches(letter, prov, prefix):
            continue
        if prov is None:
            refused.append(Refusal(letter, problem))
            continue
        if logical_topic(prov.topic, prefix) is None:
            refused.append(Refusal(letter, f"{letter.where}: source topic {prov.topic} is not a router topic "
                                           f"under prefix {prefix!r}"))
            continue
        earlier = replayed.get(marker_key(letter, prov))
        if earlier is not None:
            refused.append(Refusal(letter, f"{letter.where}: already replayed ({_when(earlier)})"))
            continue
        go.append((letter, prov))
    return Plan(tuple(go), tuple(refused))


def _when(marker: bytes) -> str:
    try:
        return f"at {json.loads(marker)['replayed_at']}"
    except (ValueError, KeyError, TypeError):
        return "marker unreadable"
