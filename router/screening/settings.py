"""Screening settings: match thresholds, list sources, country rules, e-CNY wallet limits, structuring.

Every threshold a compliance officer may be asked to justify lives here, with its default and
its validation, so that a change is a reviewed configuration change rather than a code edit.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_SHIPPED = Path(__file__).resolve().parents[1] / "data" / "sanctions"
# Dated snapshots of the real lists shipped in the package (provenance in the README beside
# them); screened against when no list is configured. ``router lists update`` fetches newer ones.
DEFAULT_LISTS: tuple[Path, ...] = (_SHIPPED / "ofac-sdn-2021-07-07" / "sdn.csv", _SHIPPED / "un-2026-02-27.xml")
# The fictional demo list (OFAC CSV layout): the demo and the end-to-end benchmark load it in
# addition to the real lists so that their payments meet holds; production never does.
DEMO_LIST = _SHIPPED / "demo" / "sdn.csv"


class TierLimit(BaseModel):
    """Limits of one e-CNY wallet tier, in CNY. ``None`` means no limit (fully verified wallets)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_payment: Decimal | None = Field(default=None, gt=0)
    per_day: Decimal | None = Field(default=None, gt=0)


# PBOC pilot wallet categories: 1 is a fully verified bank-account wallet, 4 an anonymous
# phone-number wallet. Figures are the published pilot limits (single payment / daily).
DEFAULT_TIERS: dict[int, TierLimit] = {
    1: TierLimit(),
    2: TierLimit(per_payment=Decimal("50000"), per_day=Decimal("100000")),
    3: TierLimit(per_payment=Decimal("5000"), per_day=Decimal("10000")),
    4: TierLimit(per_payment=Decimal("2000"), per_day=Decimal("5000")),
}


def _country(code: str) -> str:
    code = code.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code")
    return code


class EvidenceWeights(BaseModel):
    """How much a secondary identifier moves a name score (added to it, or taken off it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    birth_date_agrees: float = Field(default=0.05, ge=0, le=0.5)
    birth_date_contradicts: float = Field(default=0.12, ge=0, le=0.5)
    birth_place_agrees: float = Field(default=0.02, ge=0, le=0.5)
    country_agrees: float = Field(default=0.02, ge=0, le=0.5)
    # Residence differs from nationality often; a different country is a weak contradiction.
    country_contradicts: float = Field(default=0.04, ge=0, le=0.5)
    id_number_agrees: float = Field(default=0.10, ge=0, le=0.5)


class MatchPolicy(BaseModel):
    """When a name match may refuse a payment outright (see the README's decision table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Without any agreeing identifier, only an exact name of at least this many tokens (or
    # Chinese syllables) rejects; shorter ones are held for an analyst.
    exact_name_min_tokens: int = Field(default=3, ge=2)
    # A match through another romanization (Cantonese <-> pinyin) is an equivalence, not an
    # identity: it rejects only with an agreeing identifier.
    romanization_rejects_alone: bool = False
    # Short names (two Chinese syllables, or one token) need a stronger name agreement to be held
    # at all: "Chou Na" is not "CHU, Na", and thousands of people are called "Li Yi".
    short_name_hold_score: float = Field(default=0.95, gt=0, le=1)
    # A name that reads as Chinese syllables differs by whole syllables, not typos: "Mao Yu-Hsuan"
    # is not "MAO, Yu Hua", so a fuzzy match of such a name needs this much.
    chinese_name_hold_score: float = Field(default=0.93, gt=0, le=1)


class ScreeningSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Name-match scores are 0..1. At or above hold_score a payment waits for an analyst; at or
    # above reject_score the match is treated as certain and the payment is refused outright.
    hold_score: float = Field(default=0.88, gt=0, le=1)
    reject_score: float = Field(default=0.98, gt=0, le=1.01)

    evidence: EvidenceWeights = EvidenceWeights()
    policy: MatchPolicy = MatchPolicy()

    # Explicit list files (any supported format) and/or a directory whose list files are all
    # loaded (the newest of each dated series, see ``list_files_in``). Both empty means the
    # shipped real-list snapshots (``DEFAULT_LISTS``).
    list_paths: tuple[Path, ...] = ()
    list_dir: Path | None = None
    # How often the worker / review server checks the list files for a new version.
    list_poll_seconds: float = Field(default=30.0, gt=0)

    # Comprehensive embargo: any party, agent or address there is refused.
    embargoed_countries: tuple[str, ...] = ("CU", "IR", "KP", "SY")
    # FATF "call for action" and increased-monitoring jurisdictions (sample): held for review.
    high_risk_countries: tuple[str, ...] = ("MM", "RU", "VE", "YE", "ML", "HT", "SS")

    wallet_tiers: dict[int, TierLimit] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    # Unknown tier on an e-CNY wallet: treat as the most restricted tier rather than unlimited.
    unknown_wallet_tier: int = 4

    # FATF Recommendation 16: missing originator/beneficiary data on a cross-border payment.
    fatf16_action: Literal["hold", "reject"] = "hold"

    # Structuring: at least structuring_count payments from one debtor within the window, each
    # within structuring_margin below the reporting threshold of its currency.
    structuring_thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {"CNY": Decimal("50000"), "USD": Decimal("10000"), "EUR": Decimal("10000"),
                                 "HKD": Decimal("80000"), "GBP": Decimal("8000")}
    )
    structuring_margin: Decimal = Field(default=Decimal("0.10"), gt=0, lt=1)
    structuring_window_seconds: int = Field(default=24 * 3600, gt=0)
    structuring_count: int = Field(default=3, ge=2)

    @field_validator("embargoed_countries", "high_risk_countries")
    @classmethod
    def _countries(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_country(c) for c in v)

    @field_validator("wallet_tiers")
    @classmethod
    def _tiers(cls, v: dict[int, TierLimit]) -> dict[int, TierLimit]:
        for tier, lim in v.items():
            if tier < 1:
                raise ValueError("wallet tiers are numbered from 1")
            if lim.per_payment and lim.per_day and lim.per_payment > lim.per_day:
                raise ValueError(f"tier {tier}: per-payment limit exceeds the daily limit")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ScreeningSettings:
        if self.reject_score < self.hold_score:
            raise ValueError("reject_score must be >= hold_score")
        if set(self.embargoed_countries) & set(self.high_risk_countries):
            raise ValueError("a country cannot be both embargoed and high-risk")
        if self.unknown_wallet_tier not in self.wallet_tiers:
            raise ValueError("unknown_wallet_tier must be one of wallet_tiers")
        return self

    def configured_lists(self) -> tuple[Path, ...]:
        """The list files to load now (the directory is re-listed on each call)."""
        from router.screening.loaders import list_files_in

        paths = list(self.list_paths)
        if self.list_dir is not None:
            paths.extend(list_files_in(self.list_dir))
        return tuple(paths) if paths else DEFAULT_LISTS

    def with_demo_list(self) -> ScreeningSettings:
        """These settings plus the fictional demo list, on top of whatever lists are configured."""
        if DEMO_LIST in self.list_paths:
            return self
        base = self.list_paths if (self.list_paths or self.list_dir is not None) else DEFAULT_LISTS
        return self.model_copy(update={"list_paths": (*base, DEMO_LIST)})
