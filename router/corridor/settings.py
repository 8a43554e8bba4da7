"""The corridor orchestrator's settings: how long a settled or closed payment keeps its full state."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CorridorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # A payment at rest (delivered, rejected, cancelled, returned) keeps its full state this long,
    # so that returns, cancellations and status reports still find it; then it shrinks to a
    # receipt that still answers duplicates. The journey stays on payments.status either way.
    retention_days: float = Field(default=30.0, gt=0)
    sweep_interval_s: float = Field(default=60.0, gt=0)
    max_archived_per_sweep: int = Field(default=2000, ge=1)  # keeps each sweep's transaction small
    # Each sweep reads this many stored payments, in key order from where the last one stopped:
    # no index of every payment in memory, and a full pass over 1M payments in ~17 h at the defaults.
    sweep_scan_per_pass: int = Field(default=1000, ge=1)
    # Conditional payments: releasing party -> its Ed25519 public key (base64 of the raw 32 bytes).
    # An event from a party not listed here, or not signed by its key, is refused as forged.
    condition_keys: dict[str, str] = Field(default_factory=dict)
    # The longest a condition may hold funds; a payment whose expiry is further off is refused.
    max_condition_s: float = Field(default=30 * 24 * 3600.0, gt=0)
    # Postings are told to their accounts' owners in one camt.054 per account at most this often
    # (its entries are the postings booked since the last one); 0 sends one per account per
    # transaction. Batching turns ~4 messages per payment into a few per account per interval.
    notification_interval_s: float = Field(default=1.0, ge=0, le=3600)

    @field_validator("condition_keys")
    @classmethod
    def _keys_load(cls, v: dict[str, str]) -> dict[str, str]:
        from router.corridor.conditions import load_public_key

        for party, key in v.items():
            try:
                load_public_key(key)
            except ValueError as exc:
                raise ValueError(f"condition key of {party}: {exc}") from exc
        return v
