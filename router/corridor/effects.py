"""What a lifecycle step asks the wiring to do: send records."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Send:
    topic: str  # declared (logical) topic name, see router/topics.py
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
