"""Compliance rules beside list screening: e-CNY wallet limits, FATF R.16 data, structuring.

All pure: the per-debtor history (recent cleared payments) is passed in and a new history is
returned; the stage keeps it in a windowed table keyed by debtor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from router.outcome import REGULATORY
from router.screening.model import Outcome, Party, ScreeningRequest
from router.screening.settings import ScreeningSettings

# ISO 20022 ExternalStatusReason1Code values specific to these rules.
AMOUNT_NOT_ALLOWED = "AM02"  # amount greater than the allowed maximum (per payment)
AMOUNT_EXCEEDS_LIMIT = "AM14"  # exceeds the agreed limit (daily wallet limit)
MISSING_DEBTOR_ACCOUNT = "RR01"  # missing debtor account or identification
MISSING_DEBTOR_DATA = "RR02"  # missing debtor name or address
MISSING_CREDITOR_DATA = "RR03"  # missing creditor name or address

# e-CNY daily limits run on the Chinese calendar day.
CN_TZ = ZoneInfo("Asia/Shanghai")


class RuleHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str  # wallet-tier-per-payment / wallet-tier-per-day / fatf-r16 / structuring
    outcome: Outcome
    reason_code: str
    text: str


@dataclass(frozen=True, slots=True)
class PastPayment:
    at: datetime
    amount: Decimal
    currency: str


History = tuple[PastPayment, ...]


def _tier(p: Party, s: ScreeningSettings) -> int:
    return p.wallet_tier if p.wallet_tier in s.wallet_tiers else s.unknown_wallet_tier


def wallet_limits(req: ScreeningRequest, history: History, now: datetime, s: ScreeningSettings) -> list[RuleHit]:
    """The debtor's e-CNY wallet tier limits: per payment, and per Chinese calendar day."""
    d = req.debtor
    if not d.is_ecny_wallet or req.currency != "CNY":
        return []
    tier = _tier(d, s)
    limit = s.wallet_tiers[tier]
    hits = []
    if limit.per_payment is not None and req.amount > limit.per_payment:
        hits.append(RuleHit(rule="wallet-tier-per-payment", outcome="reject", reason_code=AMOUNT_NOT_ALLOWED,
                            text=f"e-CNY tier {tier} wallet: {req.amount} CNY exceeds the {limit.per_payment} "
                                 "CNY per-payment limit"))
    if limit.per_day is not None:
        today = now.astimezone(CN_TZ).date()
        spent = sum((p.amount for p in history if p.currency == "CNY" and p.at.astimezone(CN_TZ).date() == today),
                    Decimal(0))
        if spent + req.amount > limit.per_day:
            hits.append(RuleHit(rule="wallet-tier-per-day", outcome="reject", reason_code=AMOUNT_EXCEEDS_LIMIT,
                                text=f"e-CNY tier {tier} wallet: {spent} CNY already paid today + {req.amount} "
                                     f"exceeds the {limit.per_day} CNY daily limit"))
    return hits


def _cross_border(req: ScreeningRequest) -> bool:
    countries = {c for c in (req.debtor.country, req.creditor.country, req.debtor_agent.country,
                             req.creditor_agent.country) if c}
    if req.debtor_agent.bic and req.creditor_agent.bic:
        countries.update({req.debtor_agent.bic[4:6], req.creditor_agent.bic[4:6]})
    return len(countries) > 1


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def fatf16(req: ScreeningRequest, s: ScreeningSettings) -> list[RuleHit]:
    """FATF Recommendation 16 for cross-border wires: originator name, account and address
    (or national id, or date and place of birth); beneficiary name and account."""
    if not _cross_border(req):
        return []
    d, c = req.debtor, req.creditor
    missing: list[tuple[str, str]] = []
    if _blank(d.name) and _blank(d.name_original):
        missing.append((MISSING_DEBTOR_DATA, "originator name"))
    if _blank(d.account):
        missing.append((MISSING_DEBTOR_ACCOUNT, "originator account"))
    if _blank(d.address) and _blank(d.national_id) and (d.birth_date is None or _blank(d.birth_place)):
        missing.append((MISSING_DEBTOR_DATA, "originator address, national id or date and place of birth"))
    if _blank(c.name) and _blank(c.name_original):
        missing.append((MISSING_CREDITOR_DATA, "beneficiary name"))
    if _blank(c.account):
        missing.append((MISSING_CREDITOR_DATA, "beneficiary account"))
    if not missing:
        return []
    return [RuleHit(rule="fatf-r16", outcome=s.fatf16_action, reason_code=missing[0][0],
                    text="cross-border payment lacks " + "; ".join(m for _, m in missing))]


def _just_under(amount: Decimal, currency: str, s: ScreeningSettings) -> bool:
    threshold = s.structuring_thresholds.get(currency)
    if threshold is None:
        return False
    return threshold * (1 - s.structuring_margin) <= amount < threshold


def structuring(req: ScreeningRequest, history: History, now: datetime, s: ScreeningSettings) -> list[RuleHit]:
    """Many payments just under the reporting threshold from one debtor within the window."""
    if not _just_under(req.amount, req.currency, s):
        return []
    since = now - timedelta(seconds=s.structuring_window_seconds)
    near = [p for p in history if p.at > since and _just_under(p.amount, p.currency, s)]
    if len(near) + 1 < s.structuring_count:
        return []
    threshold = s.structuring_thresholds[req.currency]
    return [RuleHit(rule="structuring", outcome="hold", reason_code=REGULATORY,
                    text=f"{len(near) + 1} payments within {s.structuring_window_seconds // 3600} h just under "
                         f"the {threshold} {req.currency} threshold")]


def remember(history: History, req: ScreeningRequest, now: datetime, s: ScreeningSettings) -> History:
    """The history after this payment, trimmed to what the rules still need (window and day)."""
    keep_from = now - timedelta(seconds=max(s.structuring_window_seconds, 26 * 3600))
    kept = tuple(p for p in history if p.at > keep_from)
    return (*kept, PastPayment(now, req.amount, req.currency))


def evaluate(req: ScreeningRequest, history: History, now: datetime, s: ScreeningSettings) -> list[RuleHit]:
    return [*wallet_limits(req, history, now, s), *fatf16(req, s), *structuring(req, history, now, s)]


def history_to_json(history: Sequence[PastPayment]) -> list[dict[str, str]]:
    return [{"at": p.at.isoformat(), "amount": str(p.amount), "currency": p.currency} for p in history]


def history_from_json(raw: Sequence[dict[str, str]] | None) -> History:
    if not raw:
        return ()
    return tuple(PastPayment(datetime.fromisoformat(x["at"]), Decimal(x["amount"]), x["currency"]) for x in raw)
