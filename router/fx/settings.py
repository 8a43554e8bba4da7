"""FX settings: spreads per corridor, quote staleness, waiting for fresh quotes, lock lifetime.

Environment examples: ``ROUTER_FX__SPREAD_BPS=25``, ``ROUTER_FX__MAX_QUOTE_AGE_S=120``,
``ROUTER_FX__CORRIDOR_SPREAD_BPS='{"CNY/USD": "30"}'``, ``ROUTER_FX__CROSS_CURRENCIES='["USD","EUR"]'``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CCY = re.compile(r"^[A-Z]{3}$")
_CORRIDOR = re.compile(r"^([A-Z]{3})/([A-Z]{3})$")


class FxSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Router margin in basis points, taken off the payer's rate (see router/fx/convert.py).
    spread_bps: Decimal = Field(default=Decimal("0"), ge=0, lt=10000)
    # Per corridor "AAA/BBB" (applies in both directions); corridors not listed use spread_bps.
    corridor_spread_bps: dict[str, Decimal] = Field(default_factory=dict)
    # A quote older than this is stale: the payment waits for a fresh one.
    max_quote_age_s: float = Field(default=300.0, gt=0)
    # How long a payment may wait for a fresh quote before it is rejected.
    max_wait_s: float = Field(default=30.0, ge=0)
    # How often waiting payments are re-tried against the current quotes.
    retry_interval_s: float = Field(default=1.0, gt=0)
    # How long a locked quote binds the FX provider.
    lock_ttl_s: float = Field(default=600.0, gt=0)
    # Quotes stamped further in the future than this are not yet valid (clock skew allowance).
    max_clock_skew_s: float = Field(default=5.0, ge=0)
    # Currencies tried, in order, to cross two currencies that have no direct quote.
    cross_currencies: tuple[str, ...] = ("USD", "EUR")

    @field_validator("corridor_spread_bps")
    @classmethod
    def _valid_corridors(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for corridor, bps in v.items():
            m = _CORRIDOR.match(corridor.strip().upper())
            if not m or m.group(1) == m.group(2):
                raise ValueError(f"corridor {corridor!r} must look like 'CNY/USD'")
            if not (Decimal(0) <= bps < Decimal(10000)):
                raise ValueError(f"spread for {corridor} must be in [0, 10000) bps, got {bps}")
            out[f"{m.group(1)}/{m.group(2)}"] = bps
        return out

    @field_validator("cross_currencies")
    @classmethod
    def _valid_cross(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for c in v:
            if not _CCY.match(c):
                raise ValueError(f"cross currency {c!r} must be an ISO 4217 code like 'USD'")
        return v

    def spread_for(self, ccy_a: str, ccy_b: str) -> Decimal:
        """The corridor's spread in bps, whichever way the money flows."""
        c = self.corridor_spread_bps
        return c.get(f"{ccy_a}/{ccy_b}", c.get(f"{ccy_b}/{ccy_a}", self.spread_bps))

    @property
    def max_quote_age(self) -> timedelta:
        return timedelta(seconds=self.max_quote_age_s)

    @property
    def max_wait(self) -> timedelta:
        return timedelta(seconds=self.max_wait_s)

    @property
    def lock_ttl(self) -> timedelta:
        return timedelta(seconds=self.lock_ttl_s)

    @property
    def max_clock_skew(self) -> timedelta:
        return timedelta(seconds=self.max_clock_skew_s)
