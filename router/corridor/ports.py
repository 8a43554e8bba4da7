"""What the lifecycle needs from the world, as narrow interfaces the wiring (or a test) provides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from router.config import Settings
from router.fx.quote import Quote
from router.iso20022.directory import Directory
from router.iso20022.model import CanonicalMessage, Payment, Side


@dataclass(frozen=True, slots=True)
class Verdict:
    """A screening result as the lifecycle uses it; ``case`` and ``audit`` are JSON-ready records."""

    outcome: Literal["clear", "hold", "reject"]
    reason_code: str | None = None
    text: str = ""
    case: dict[str, Any] | None = None
    audit: tuple[dict[str, Any], ...] = ()
    matches: tuple[dict[str, Any], ...] = field(default_factory=tuple)


class Ports(Protocol):
    settings: Settings
    directory: Directory

    def screen(self, payment: Payment, source: Side, now: datetime) -> Verdict: ...

    def quotes(self) -> list[Quote]: ...

    def translate(self, message: CanonicalMessage, to: Side) -> CanonicalMessage:
        """The message in ``to``'s profile; raises ValueError when it cannot be translated."""
        ...

    def currency_of(self, bic: str) -> str | None:
        """The settlement currency of a correspondent (None for CIPS participants: CNY)."""
        ...
