"""Quote locks: the price a payment got, kept per UETR so that it is never priced twice.

The quote id is a hash of the UETR, the request and the quotes used, so a payment priced again
from the same quotes (e.g. after a crash lost the lock before it was stored) gets the same id.
A lock binds the FX provider until ``expires_at``; settlement must not use it after that.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

from router.fx.convert import Conversion, base_one_rate
from router.fx.quote import Quote


class LockedQuote(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    quote_id: str
    uetr: str
    amount_in: Decimal
    currency_in: str
    amount_out: Decimal
    currency_out: str
    rate: Decimal  # units of currency_out per 1 currency_in, spread applied
    quoted_pair: str
    quoted_rate: Decimal  # the same rate in quoted_pair's convention
    spread_bps: Decimal
    route: tuple[str, ...]
    provider: str
    legs: tuple[Quote, ...]
    locked_at: AwareDatetime
    expires_at: AwareDatetime

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at

    def matches(self, amount: Decimal, ccy_from: str, ccy_to: str) -> bool:
        return (self.amount_in == amount and self.currency_in == ccy_from
                and self.currency_out == ccy_to)

    @property
    def xchg_rate(self) -> Decimal:
        """``rate`` as ISO 20022 BaseOneRate, for XchgRate on pacs.008 / pacs.009."""
        return base_one_rate(self.rate)


def quote_id(uetr: str, conv: Conversion) -> str:
    h = hashlib.sha256()
    h.update(f"{uetr}|{conv.amount_in}|{conv.currency_in}|{conv.currency_out}|{conv.spread_bps}".encode())
    for q in conv.legs:
        h.update(f"|{q.pair}|{q.provider}|{q.ts.isoformat()}|{q.bid}|{q.ask}".encode())
    return "FXQ-" + h.hexdigest()[:24].upper()


def lock_quote(uetr: str, conv: Conversion, now: datetime, ttl_s: float) -> LockedQuote:
    return LockedQuote(
        quote_id=quote_id(uetr, conv), uetr=uetr, amount_in=conv.amount_in, currency_in=conv.currency_in,
        amount_out=conv.amount_out, currency_out=conv.currency_out, rate=conv.rate,
        quoted_pair=conv.quoted_pair, quoted_rate=conv.quoted_rate, spread_bps=conv.spread_bps,
        route=conv.route, provider=conv.provider, legs=conv.legs, locked_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )


class LockStore(Protocol):
    """Where locks live between deliveries (the corridor keeps a payment's lock in its state;
    ``price_with_store`` and the FX benchmark use this interface with ``MemoryLockStore``)."""

    def get(self, uetr: str) -> LockedQuote | None: ...

    def put(self, lock: LockedQuote) -> None: ...


class MemoryLockStore:
    def __init__(self) -> None:
        self._locks: dict[str, LockedQuote] = {}

    def get(self, uetr: str) -> LockedQuote | None:
        return self._locks.get(uetr)

    def put(self, lock: LockedQuote) -> None:
        self._locks[lock.uetr] = lock

    def __len__(self) -> int:
        return len(self._locks)
