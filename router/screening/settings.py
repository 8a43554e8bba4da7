"""Screening settings (thresholds, lists, country rules)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ScreeningSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
