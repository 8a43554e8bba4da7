"""Pricing one payment: reuse its lock, or convert at the best fresh rate and lock the quote.

``price_payment`` is pure: the caller passes the payment's existing lock (from a ``LockStore``),
the current quotes, the clock and, for a payment already waiting, when the wait began. It returns

- ``Ok(Priced)``: with ``reused=True`` the lock was found and is returned unchanged (retry or
  redelivery after new quotes keeps the original quote id, rate and amounts: a payment is never
  priced twice, even after the lock has expired; settlement refuses expired locks). With
  ``reused=False`` the caller must store ``priced.lock`` before acting on the result.
- ``Wait``: no fresh quote yet; try again at ``retry_at``, passing ``waiting_since`` back.
- ``Reject``: bad currency or amount, the UETR already priced for a different amount or currency
  pair (``DUPLICATE``), or no fresh quote within ``max_wait_s`` (``FX_RATE_UNAVAILABLE``, AB03).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from router.fx.convert import convert
from router.fx.currency import STAGE
from router.fx.lock import LockedQuote, LockStore, lock_quote
from router.fx.quote import Quote
from router.fx.settings import FxSettings
from router.outcome import DUPLICATE, FX_RATE_UNAVAILABLE, Ok, Reject


@dataclass(frozen=True, slots=True)
class Priced:
    """What the ISO builder writes on pacs.008 / pacs.009: InstdAmt, IntrBkSttlmAmt, XchgRate."""

    lock: LockedQuote
    reused: bool

    @property
    def uetr(self) -> str:
        return self.lock.uetr

    @property
    def instructed_amount(self) -> Decimal:
        return self.lock.amount_in

    @property
    def instructed_ccy(self) -> str:
        return self.lock.currency_in

    @property
    def settlement_amount(self) -> Decimal:
        return self.lock.amount_out

    @property
    def settlement_ccy(self) -> str:
        return self.lock.currency_out

    @property
    def rate(self) -> Decimal:
        """Units of settlement currency per 1 instructed currency (28 significant digits)."""
        return self.lock.rate

    @property
    def xchg_rate(self) -> Decimal:
        """``rate`` as ISO 20022 BaseOneRate (11 digits, 10 decimals), for XchgRate."""
        return self.lock.xchg_rate

    @property
    def quoted_pair(self) -> str:
        return self.lock.quoted_pair

    @property
    def quoted_rate(self) -> Decimal:
        return self.lock.quoted_rate

    @property
    def quote_id(self) -> str:
        return self.lock.quote_id

    @property
    def provider(self) -> str:
        return self.lock.provider

    @property
    def route(self) -> tuple[str, ...]:
        return self.lock.route

    @property
    def expires_at(self) -> datetime:
        return self.lock.expires_at

    def iso_fields(self) -> dict[str, tuple[Decimal, str] | Decimal]:
        """Values for pacs.008 / pacs.009: ``InstdAmt`` and ``IntrBkSttlmAmt`` as (amount, Ccy),
        ``XchgRate`` such that IntrBkSttlmAmt = InstdAmt x XchgRate (before the final rounding)."""
        return {
            "InstdAmt": (self.instructed_amount, self.instructed_ccy),
            "IntrBkSttlmAmt": (self.settlement_amount, self.settlement_ccy),
            "XchgRate": self.xchg_rate,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (decimals as strings), for the CLI."""
        return {
            "uetr": self.uetr,
            "status": "PRICED",
            "amount_in": str(self.instructed_amount),
            "currency_in": self.instructed_ccy,
            "amount_out": str(self.settlement_amount),
            "currency_out": self.settlement_ccy,
            "rate": str(self.rate),
            "xchg_rate": str(self.xchg_rate),
            "quoted_pair": self.quoted_pair,
            "quoted_rate": str(self.quoted_rate),
            "route": list(self.route),
            "provider": self.provider,
            "quote_id": self.quote_id,
            "locked_at": _iso(self.lock.locked_at),
            "expires_at": _iso(self.expires_at),
            "reused": self.reused,
        }


@dataclass(frozen=True, slots=True)
class Wait:
    reason: str
    waiting_since: datetime
    retry_at: datetime
    give_up_at: datetime


def price_payment(
    uetr: str,
    amount: Decimal,
    ccy_from: str,
    ccy_to: str,
    quotes: Sequence[Quote],
    existing_lock: LockedQuote | None,
    now: datetime,
    settings: FxSettings,
    *,
    waiting_since: datetime | None = None,
) -> Ok[Priced] | Reject | Wait:
    """Price payment ``uetr`` (see module doc). ``quotes`` are the current quotes, any age."""
    if existing_lock is not None:
        if not existing_lock.matches(amount, ccy_from, ccy_to):
            return Reject(DUPLICATE, (
                f"UETR {uetr} already priced as {existing_lock.amount_in} {existing_lock.currency_in}->"
                f"{existing_lock.currency_out} (quote {existing_lock.quote_id})"), STAGE)
        return Ok(Priced(existing_lock, reused=True))
    result = convert(
        amount, ccy_from, ccy_to, quotes, now, settings.spread_for(ccy_from, ccy_to),
        max_age=settings.max_quote_age, cross=settings.cross_currencies, max_skew=settings.max_clock_skew,
    )
    if isinstance(result, Ok):
        return Ok(Priced(lock_quote(uetr, result.value, now, settings.lock_ttl_s), reused=False))
    if result.code != FX_RATE_UNAVAILABLE:
        return result
    since = waiting_since if waiting_since is not None else now
    give_up = since + settings.max_wait
    if now >= give_up:
        waited = int((now - since).total_seconds())
        return Reject(FX_RATE_UNAVAILABLE, f"no fresh FX quote after waiting {waited} s: {result.text}", STAGE)
    retry = min(now + timedelta(seconds=settings.retry_interval_s), give_up)
    return Wait(result.text, since, retry, give_up)


def price_with_store(
    store: LockStore, uetr: str, amount: Decimal, ccy_from: str, ccy_to: str, quotes: Sequence[Quote],
    now: datetime, settings: FxSettings, *, waiting_since: datetime | None = None,
) -> Ok[Priced] | Reject | Wait:
    """``price_payment`` with the lock read from and a new lock written to ``store``."""
    result = price_payment(uetr, amount, ccy_from, ccy_to, quotes, store.get(uetr), now, settings,
                           waiting_since=waiting_since)
    if isinstance(result, Ok) and not result.value.reused:
        store.put(result.value.lock)
    return result


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")
