"""FX quotes: the value format of the ``fx.rates`` topic and of ``--rates`` files.

``{"pair": "USD/CNY", "bid": "7.1012", "ask": "7.1188", "ts": "2026-11-29T10:00:00Z",
"provider": "FXP1"}`` (optional ``"derived": true`` for rates not quoted by a market but derived,
e.g. from a currency peg). A ``BASE/COUNTER`` quote prices one unit of BASE in COUNTER: the
provider buys BASE from a payer at ``bid`` and sells BASE to a payer at ``ask``.
Decimals travel as strings; a JSON number is refused, because a float has already lost digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_PAIR = re.compile(r"^([A-Z]{3})/([A-Z]{3})$")


class Quote(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    pair: str
    bid: Decimal
    ask: Decimal
    ts: AwareDatetime
    provider: str = Field(min_length=1, max_length=64)
    derived: bool = False
    # The reference date the rate was observed on, when it differs from ``ts`` (feed replays).
    source_date: date | None = None

    @field_validator("pair")
    @classmethod
    def _pair(cls, v: str) -> str:
        m = _PAIR.match(v)
        if not m or m.group(1) == m.group(2):
            raise ValueError(f"pair {v!r} must look like 'USD/CNY'")
        return v

    @field_validator("bid", "ask", mode="before")
    @classmethod
    def _decimal_text(cls, v: Any) -> Decimal:
        if isinstance(v, bool | float):
            raise ValueError("rates must be decimal strings, not JSON numbers")
        try:
            d = Decimal(v) if isinstance(v, str | int) else v
        except InvalidOperation:
            raise ValueError(f"rate {v!r} is not a decimal") from None
        if not isinstance(d, Decimal) or not d.is_finite() or d <= 0:
            raise ValueError(f"rate {v!r} must be a positive decimal")
        return d

    @field_validator("ts")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.astimezone(UTC)

    @model_validator(mode="after")
    def _ordered(self) -> Quote:
        if self.ask < self.bid:
            raise ValueError(f"{self.pair}: ask {self.ask} below bid {self.bid}")
        return self

    @property
    def base(self) -> str:
        return self.pair[:3]

    @property
    def counter(self) -> str:
        return self.pair[4:]

    @property
    def key(self) -> str:
        """Identity in the current-quotes table: one live quote per (pair, provider)."""
        return f"{self.pair}|{self.provider}"

    def age(self, now: datetime) -> timedelta:
        return now - self.ts

    def to_json(self) -> str:
        d: dict[str, Any] = {"pair": self.pair, "bid": str(self.bid), "ask": str(self.ask),
                             "ts": self.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z"),
                             "provider": self.provider}
        if self.derived:
            d["derived"] = True
        if self.source_date is not None:
            d["source_date"] = self.source_date.isoformat()
        return json.dumps(d, separators=(",", ":"))


class QuoteFormatError(ValueError):
    pass


def parse_quote(raw: bytes | str) -> Quote:
    """One quote from JSON; raises QuoteFormatError with a one-line reason."""
    try:
        return Quote.model_validate_json(raw)
    except ValidationError as exc:
        raise QuoteFormatError(_one_line(exc)) from None


def parse_quote_list(raw: bytes | str) -> list[Quote]:
    """A JSON list of quotes (the ``--rates`` file format)."""
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise QuoteFormatError(f"not JSON: {exc}") from None
    if not isinstance(items, list):
        raise QuoteFormatError("expected a JSON list of quotes")
    out: list[Quote] = []
    for i, item in enumerate(items):
        try:
            out.append(Quote.model_validate(item, strict=False))
        except ValidationError as exc:
            raise QuoteFormatError(f"quote #{i}: {_one_line(exc)}") from None
    return out


def latest_per_provider(quotes: Iterable[Quote]) -> dict[str, Quote]:
    """Keep the newest quote per (pair, provider), as the corridor's quote follower does."""
    out: dict[str, Quote] = {}
    for q in quotes:
        cur = out.get(q.key)
        if cur is None or q.ts >= cur.ts:
            out[q.key] = q
    return out


def _one_line(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = []
    for e in errs[:3]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
    return "; ".join(parts)
