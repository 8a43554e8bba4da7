"""ISO 4217 minor units (from the maintained ``iso4217`` data package) and amount parsing.

Rounding rule for money in the router: ROUND_HALF_EVEN to the currency's minor units
(CNY 2, JPY 0, KWD 3, ...). Currencies without minor units in ISO 4217 (gold, SDR, testing
codes) are not payable through the corridor and count as unknown.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

from iso4217 import Currency

from router.outcome import INVALID_AMOUNT, INVALID_CURRENCY, Ok, Reject

STAGE = "fx"


@lru_cache(maxsize=512)
def minor_units(ccy: str) -> int | None:
    """Number of decimals the currency allows, or None for a code that is not a payable currency."""
    if len(ccy) != 3 or not ccy.isascii() or not ccy.isupper():
        return None
    try:
        exp = Currency(ccy).exponent
    except ValueError:
        return None
    return exp if isinstance(exp, int) else None


def check_currency(ccy: str) -> Ok[str] | Reject:
    if minor_units(ccy) is None:
        return Reject(INVALID_CURRENCY, f"unknown currency {ccy!r} (not an ISO 4217 currency with minor units)",
                      STAGE)
    return Ok(ccy)


@lru_cache(maxsize=16)
def _unit(exp: int) -> Decimal:
    return Decimal(1).scaleb(-exp)


def round_amount(value: Fraction | Decimal, ccy: str) -> Decimal:
    """``value`` rounded half-even to ``ccy``'s minor units; the result has exactly that scale."""
    exp = minor_units(ccy)
    if exp is None:
        raise ValueError(f"unknown currency {ccy!r}")
    if isinstance(value, Decimal):
        return value.quantize(_unit(exp), rounding=ROUND_HALF_EVEN)
    # Fraction rounding is exact and half-even, so no intermediate Decimal precision can leak in.
    scaled = round(value * 10**exp)
    return Decimal(scaled).scaleb(-exp).quantize(_unit(exp))


def check_amount(amount: Decimal, ccy: str) -> Ok[Decimal] | Reject:
    """A payable amount: finite, positive, with no more decimals than ``ccy`` allows."""
    exp = minor_units(ccy)
    if exp is None:
        return check_currency(ccy)  # type: ignore[return-value]
    if not amount.is_finite():
        return Reject(INVALID_AMOUNT, f"amount {amount} is not a number", STAGE)
    if amount <= 0:
        return Reject(INVALID_AMOUNT, f"amount {amount} must be positive", STAGE)
    decimals = -amount.as_tuple().exponent  # type: ignore[operator]
    # Strict like CBPR+ usage rules: "100.500" CNY is refused even though its value fits.
    if decimals > exp:
        return Reject(INVALID_AMOUNT, f"amount {amount} has more decimals than {ccy} allows ({exp})", STAGE)
    # ISO 20022 ActiveCurrencyAndAmount: at most 18 digits in total.
    if amount.adjusted() + 1 + exp > 18:
        return Reject(INVALID_AMOUNT, f"amount {amount} is too large", STAGE)
    return Ok(amount.quantize(_unit(exp)))


def parse_amount(text: str, ccy: str) -> Ok[Decimal] | Reject:
    """Parse a decimal amount string for ``ccy`` (no floats, no exponents, no thousands separators)."""
    t = text.strip()
    if not t or any(ch not in "0123456789.-+" for ch in t):
        return Reject(INVALID_AMOUNT, f"amount {text!r} is not a number", STAGE)
    try:
        value = Decimal(t)
    except InvalidOperation:
        return Reject(INVALID_AMOUNT, f"amount {text!r} is not a number", STAGE)
    return check_amount(value, ccy)
