"""Settlement settings (opening balances, PvP deadline, liquidity queue)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SettlementSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
