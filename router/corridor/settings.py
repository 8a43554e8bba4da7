"""The corridor orchestrator's settings: how long a settled or closed payment keeps its full state."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CorridorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # A payment at rest (delivered, rejected, cancelled, returned) keeps its full state this long,
    # so that returns, cancellations and status reports still find it; then it shrinks to a
    # receipt that still answers duplicates. The journey stays on payments.status either way.
    retention_days: float = Field(default=30.0, gt=0)
    sweep_interval_s: float = Field(default=60.0, gt=0)
    max_archived_per_sweep: int = Field(default=2000, ge=1)  # keeps each sweep's transaction small
