"""ISO 4217 currencies and minor units: amounts on the wire always carry the currency's exponent."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from iso4217 import Currency


@lru_cache(maxsize=512)
def minor_units(code: str) -> int | None:
    """The currency's exponent, or None when ``code`` is not an active ISO 4217 currency."""
    try:
        exp = Currency(code).exponent
    except (ValueError, KeyError):
        return None
    return int(exp) if exp is not None else 0


def quantize(amount: Decimal, code: str) -> Decimal:
    exp = minor_units(code)
    if exp is None:
        raise ValueError(f"unknown currency {code!r}")
    return amount.quantize(Decimal(1).scaleb(-exp), rounding=ROUND_HALF_EVEN)


def wire(amount: Decimal, code: str) -> str:
    """The amount as written in XML: plain notation, the currency's number of decimals."""
    return format(quantize(amount, code), "f")
