"""What the lifecycle needs from the world, as narrow interfaces the wiring (or a test) provides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from router.corridor.settings import CorridorSettings
from router.fx.quote import Quote
from router.fx.settings import FxSettings
from router.iso20022.directory import Directory
from router.iso20022.model import CanonicalMessage, Side


@dataclass(frozen=True, slots=True)
class Verdict:
    """The screening stage's decision on a payment, as the lifecycle uses it."""

    outcome: Literal["clear", "hold", "reject"]
    reason_code: str | None = None
    text: str = ""


class LifecycleSettings(Protocol):
    """The settings the corridor reads (``router.config.Settings`` has them); narrow, so that the
    corridor does not depend on the process-wide configuration."""

    @property
    def router_bic(self) -> str: ...

    @property
    def fx(self) -> FxSettings: ...

    @property
    def corridor(self) -> CorridorSettings: ...


class Ports(Protocol):
    @property
    def settings(self) -> LifecycleSettings: ...

    directory: Directory

    def quotes(self) -> Sequence[Quote]: ...

    def translate(self, message: CanonicalMessage, to: Side) -> CanonicalMessage:
        """The message in ``to``'s profile; raises ValueError when it cannot be translated."""
        ...

    def currency_of(self, bic: str) -> str | None:
        """The settlement currency of a correspondent (None for CIPS participants: CNY)."""
        ...
