"""What screening reads and writes: list entries and versions, the screened request, matches.

Lists are plain frozen dataclasses (tens of thousands of entries, built once per list version);
the request and the records that travel on Kafka are pydantic models so they validate on the
way in and serialise to JSON on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Field_ = Literal["name", "alias", "bic", "country"]
Outcome = Literal["clear", "hold", "reject"]


@dataclass(frozen=True, slots=True)
class ListVersion:
    """Which list a decision used: its source, its own publication date, size and content hash."""

    source: str  # e.g. "OFAC-SDN", "OFAC-CONSOLIDATED", "UN-SC", or the file stem
    published: date | None
    # Where the date came from: the list itself, the file name, or (last resort) the file's mtime.
    published_from: Literal["list", "path", "file-mtime", "unknown"]
    entries: int
    sha256: str
    path: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "published": self.published.isoformat() if self.published else None,
                "published_from": self.published_from, "entries": self.entries, "sha256": self.sha256}

    @property
    def label(self) -> str:
        return f"{self.source}@{self.published.isoformat() if self.published else 'undated'}#{self.sha256[:12]}"


@dataclass(frozen=True, slots=True)
class Identifiers:
    """A listed person's secondary identifiers. A birth date is "YYYY-MM-DD" or "YYYY" (year only)."""

    birth_dates: tuple[str, ...] = ()
    birth_places: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()  # ISO alpha-2
    id_numbers: tuple[str, ...] = ()  # id_key form

    def __bool__(self) -> bool:
        return bool(self.birth_dates or self.birth_places or self.nationalities or self.id_numbers)


@dataclass(frozen=True, slots=True)
class ListEntry:
    uid: str
    name: str  # primary name as published
    kind: str  # individual / entity / vessel / aircraft
    aliases: tuple[str, ...] = ()
    bics: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO alpha-2 where resolvable
    programs: tuple[str, ...] = ()
    identifiers: Identifiers = Identifiers()


@dataclass(frozen=True, slots=True)
class SanctionsList:
    version: ListVersion
    entries: tuple[ListEntry, ...] = field(repr=False)


class Match(BaseModel):
    """One explainable hit: which list, which entry, which field, how strong."""

    model_config = ConfigDict(frozen=True)

    list: str  # ListVersion.source
    list_version: str  # ListVersion.label
    entry: str  # entry uid
    entry_name: str  # the list's primary name for the entry
    field: Field_
    matched: str  # the list value that matched (primary name, alias, BIC or country)
    screened: str  # the value screened (party name, BIC, country)
    party: str = ""  # debtor / creditor / debtor_agent / ...
    score: float  # the name score moved by the secondary identifiers (``evidence``)
    name_score: float | None = None  # the name alone
    # How the names compare: "spelling" (fuzzy on the written form) or "romanization:<scheme>".
    basis: str = "spelling"
    # A two-syllable Chinese name or a one-token name: never rejected on the name alone.
    short: bool = False
    name_size: int = 0  # tokens of the screened name, or syllables of a Chinese one
    evidence: tuple[str, ...] = ()  # "agrees: date of birth ...", "contradicts: country ..."
    agreed: int = 0
    contradicted: int = 0
    # Agreements that single out a person (date of birth, ID number): what a reject needs.
    confirmed: int = 0


class Party(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    # The name as written by the sender (e.g. Chinese characters) when ``name`` is transliterated.
    name_original: str | None = None
    country: str | None = None  # residence / address country, ISO alpha-2
    account: str | None = None  # IBAN, account number or e-CNY wallet id
    address: str | None = None
    national_id: str | None = None
    # Every identifier the payment gives (national id, passport, tax or company number, LEI).
    id_numbers: tuple[str, ...] = ()
    birth_date: date | None = None
    birth_place: str | None = None  # city of birth and country of birth, as one text
    residence_country: str | None = None  # CtryOfRes (``country`` is the address country, else this)
    bic: str | None = None  # an organisation's AnyBIC
    # e-CNY wallet category (1..4) when ``account`` is an e-CNY wallet, else None.
    wallet_tier: int | None = None
    is_ecny_wallet: bool = False


class Agent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bic: str | None = None
    country: str | None = None


class ScreeningRequest(BaseModel):
    """The screening view of one payment (the canonical ISO model is mapped onto this)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    uetr: str
    debtor: Party
    creditor: Party
    ultimate_debtor: Party | None = None
    ultimate_creditor: Party | None = None
    debtor_agent: Agent = Agent()
    creditor_agent: Agent = Agent()
    intermediaries: tuple[Agent, ...] = ()
    amount: Decimal = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    # Stable id of the debtor for velocity rules (wallet id, account, or customer id).
    debtor_id: str | None = None
    created_at: datetime | None = None

    def velocity_key(self) -> str:
        return self.debtor_id or self.debtor.account or (self.debtor.name or "").lower()
