"""Failures are data: every processing step returns ``Ok`` or a ``Reject``.

A ``Reject`` carries an ISO 20022 external status reason code (the same code set pacs.002 and
admi.002 use), a human-readable text and the stage that refused the input. Wiring code sends
rejects to the DLQ and answers the sender; it never raises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# ISO 20022 ExternalStatusReason1Code values used by the router.
FORMAT_ERROR = "FF01"  # invalid file format: unparseable, hostile or schema-invalid
MISSING_ELEMENT = "CH21"  # required compulsory element missing
INVALID_CURRENCY = "AM03"  # not allowed currency
INVALID_AMOUNT = "AM12"  # invalid amount
INSUFFICIENT_FUNDS = "AM04"
INVALID_BIC = "RC01"  # bank identifier incorrect
DUPLICATE = "AM05"  # duplication
REGULATORY = "RR04"  # regulatory reason (sanctions / compliance)
TIMEOUT = "AB05"  # timeout at creditor agent / not settled in time
# A conditional payment whose condition was not met by its expiry: TM01 "received after the
# cut-off time" is the nearest ISO code (the release came after, or never before, the cut-off).
CONDITION_EXPIRED = "TM01"
CANCELLED = "FOCR"  # following cancellation request
NARRATIVE = "NARR"


@dataclass(frozen=True, slots=True)
class Reject:
    code: str
    text: str
    stage: str

    def __str__(self) -> str:
        return f"{self.code} {self.stage}: {self.text}"


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    value: T


# What a step that can refuse its input returns: the value, or the reason it was refused.
Result = Ok[T] | Reject

# FX (router/fx): AB03 "settlement aborted due to timeout" - no fresh FX quote arrived within the
# wait limit, so the payment could not be priced and cannot settle. Chosen because the code set has
# no FX-specific reason and the payment is aborted before settlement by a time limit.
FX_RATE_UNAVAILABLE = "AB03"
