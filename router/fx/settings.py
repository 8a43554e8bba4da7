"""FX settings (spread, staleness, lock lifetime)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class FxSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    spread_bps: Decimal = Field(default=Decimal("0"), ge=0)
