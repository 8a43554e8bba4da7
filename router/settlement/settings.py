"""Settlement settings (opening balances, PvP deadline, liquidity queue)."""

from __future__ import annotations

import re
from decimal import Decimal

import iso4217
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from router.topics import replay_horizon_ms

DAY_S = 24 * 3600.0
# Beyond the command topic's replay horizon: clock skew between brokers and workers, and the
# broker's retention check interval.
REPLAY_MARGIN_S = DAY_S
# Account ids travel as Kafka keys and inside changelog keys joined with "|".
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")


def minor_units(currency: str) -> int:
    """ISO 4217 minor units of ``currency`` (KeyError when the code is unknown)."""
    cur = iso4217.Currency(currency)
    return int(cur.exponent or 0)


class AccountOpening(BaseModel):
    """An account's opening position. ``owner`` is the participant told about movements (camt.054)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str
    amount: Decimal = Decimal("0")
    owner: str | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, v: str) -> str:
        try:
            minor_units(v)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unknown ISO 4217 currency {v!r}") from exc
        return v

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, v: Decimal) -> Decimal:
        if not v.is_finite() or v < 0:
            raise ValueError("opening balance must be a finite amount >= 0")
        return v


def _demo_accounts() -> dict[str, AccountOpening]:
    # A small plausible corridor so that a fresh deployment can settle without configuration:
    # two CIPS participants, an e-CNY operating institution, an FX provider in every corridor
    # currency and the correspondents' nostro accounts.
    a = AccountOpening
    return {
        "CIPSBANKA/CNY": a(currency="CNY", amount=Decimal("50000000.00"), owner="CIPSBANKA"),
        "CIPSBANKB/CNY": a(currency="CNY", amount=Decimal("50000000.00"), owner="CIPSBANKB"),
        "ECNYOPER1/CNY": a(currency="CNY", amount=Decimal("20000000.00"), owner="ECNYOPER1"),
        "FXBANKCN/CNY": a(currency="CNY", amount=Decimal("100000000.00"), owner="FXBANKCN"),
        "FXBANKCN/USD": a(currency="USD", amount=Decimal("20000000.00"), owner="FXBANKCN"),
        "FXBANKCN/EUR": a(currency="EUR", amount=Decimal("20000000.00"), owner="FXBANKCN"),
        "CORRUS33/USD": a(currency="USD", amount=Decimal("0.00"), owner="CORRUS33"),
        "CORRDEFF/EUR": a(currency="EUR", amount=Decimal("0.00"), owner="CORRDEFF"),
    }


class SettlementSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # account id -> opening position. Every process of one deployment must see the same map:
    # the ledger check proves conservation against it.
    opening_balances: dict[str, AccountOpening] = Field(default_factory=_demo_accounts)
    # Participants acting as FX providers (they hold an account in every corridor currency).
    fx_providers: tuple[str, ...] = ("FXBANKCN",)
    # A settlement not decided this long after it arrived is aborted (AB05, or AM04 if queued).
    pvp_deadline_s: float = Field(default=60.0, gt=0)
    # How long a leg short of funds waits in the liquidity queue (PDNG) before AM04; 0 = no queue.
    liquidity_max_wait_s: float = Field(default=10.0, ge=0)
    # Liquidity-saving mechanism: queued settlements that fund each other on their net are booked
    # together (bilateral, then multilateral), on every scan of the queue.
    lsm: bool = True
    lsm_interval_s: float = Field(default=1.0, gt=0)  # at most one LSM search per interval
    # participant -> the most its accounts may be net debited by settlements since opening
    # (fundings excluded), in each account's currency. Enforced on every booking, LSM sets included.
    net_debit_caps: dict[str, Decimal] = Field(default_factory=dict)
    # How often expired deadlines and liquidity waits are looked for.
    tick_interval_s: float = Field(default=0.25, gt=0, le=60)
    # Records per consume-transform-produce transaction (upper bound).
    max_batch: int = Field(default=2000, ge=1)
    transaction_timeout_ms: int = Field(default=20000, ge=1000)
    # A decided settlement's receipt is kept this long after its decision: it answers a replayed
    # request as a duplicate, and the sender's MsgId counts as used for as long.
    retention_days: float = Field(default=30.0, gt=0)
    sweep_interval_s: float = Field(default=60.0, gt=0)
    max_archived_per_sweep: int = Field(default=2000, ge=1)  # keeps each sweep's transaction small
    # Decided receipts kept decoded in front of the disk (state.backend = rocksdb): a replayed
    # settlement id comes soon after the original, if at all.
    receipt_cache: int = Field(default=4096, ge=0)

    @field_validator("opening_balances")
    @classmethod
    def _valid_accounts(cls, v: dict[str, AccountOpening]) -> dict[str, AccountOpening]:
        for acct, opening in v.items():
            if not ACCOUNT_ID.match(acct):
                raise ValueError(f"account id {acct!r} must match {ACCOUNT_ID.pattern}")
            q = Decimal(1).scaleb(-minor_units(opening.currency))
            if opening.amount != opening.amount.quantize(q):
                raise ValueError(f"{acct}: opening amount {opening.amount} has more than "
                                 f"{minor_units(opening.currency)} decimals for {opening.currency}")
        return v

    @model_validator(mode="after")
    def _retention_outlives_replays(self) -> SettlementSettings:
        floor = self.min_retention_days()
        if self.retention_days < floor:
            raise ValueError(f"retention_days={self.retention_days:g} is shorter than the replay horizon of "
                             f"settlement.requests + pvp_deadline_s + margin ({floor:.2f} days)")
        return self

    def min_retention_days(self) -> float:
        """The shortest safe retention. A request is decided at most pvp_deadline_s after it
        arrives and can be read again for replay_horizon_ms(settlement.requests): a receipt
        removed earlier could let a replayed request book twice."""
        return (replay_horizon_ms("settlement.requests") / 1000 + self.pvp_deadline_s + REPLAY_MARGIN_S) / DAY_S

    def owner_of(self, account: str) -> str:
        opening = self.opening_balances.get(account)
        if opening is not None and opening.owner:
            return opening.owner
        return account.split("/", 1)[0]
