"""A consumed record as the transactional processor's stage logic sees it, for agent tests that
call ``process`` directly (no broker)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeRecord:
    value: bytes
    key: bytes
    topic: str = "screening.requests"
    partition: int = 0
    offset: int = 0
    headers: list[tuple[str, bytes]] = field(default_factory=list)
