"""Simulator behaviour for the demo and the end-to-end tests: probabilities, delays, seed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Probability = float


class SimSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 20261111
    # Correspondent banks answering a delivered payment.
    corr_reject_p: Probability = Field(default=0.02, ge=0, le=1)
    corr_late_p: Probability = Field(default=0.05, ge=0, le=1)
    corr_late_s: float = Field(default=2.0, ge=0)
    corr_return_p: Probability = Field(default=0.01, ge=0, le=1)
    corr_return_after_s: float = Field(default=1.0, ge=0)
    corr_cancel_accept_p: Probability = Field(default=0.8, ge=0, le=1)
    # Share of traffic that originates at correspondents (inbound to China).
    inbound_share: Probability = Field(default=0.2, ge=0, le=1)
    # CIPS side: share of payments its sender tries to cancel shortly after sending.
    cips_cancel_p: Probability = Field(default=0.005, ge=0, le=1)
    # Share of payments to a party on the demo sanctions list (to exercise holds and rejects).
    sanctioned_p: Probability = Field(default=0.003, ge=0, le=1)
    # Share of e-CNY wallet payments above the wallet category's per-payment limit (AM02).
    wallet_over_limit_p: Probability = Field(default=0.02, ge=0, le=1)
    pacs009_share: Probability = Field(default=0.05, ge=0, le=1)
    # Payments per second of the steady profile.
    rate_per_s: float = Field(default=25.0, gt=0)
    # Programmable trade payments (outbound CIPS): share that is conditional on delivery, share
    # of those whose delivery the logistics party confirms (after condition_delay_s), and how long
    # each condition holds the funds.
    conditional_share: Probability = Field(default=0.05, ge=0, le=1)
    condition_met_p: Probability = Field(default=0.8, ge=0, le=1)
    condition_delay_s: float = Field(default=2.0, ge=0)
    condition_expiry_s: float = Field(default=8.0, gt=0)
