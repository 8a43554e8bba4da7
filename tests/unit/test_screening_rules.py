"""Wallet-tier limits, FATF R.16 completeness and the structuring rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from router.screening.model import Agent, Party, ScreeningRequest
from router.screening.rules import (
    AMOUNT_EXCEEDS_LIMIT,
    AMOUNT_NOT_ALLOWED,
    MISSING_DEBTOR_ACCOUNT,
    PastPayment,
    fatf16,
    history_from_json,
    history_to_json,
    remember,
    structuring,
    wallet_limits,
)
from router.screening.settings import ScreeningSettings

S = ScreeningSettings()
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def req(amount: str, *, currency: str = "CNY", tier: int | None = 4, wallet: bool = True,
        **kw: object) -> ScreeningRequest:
    debtor = kw.pop("debtor", Party(name="Wang Fang", account="0031000000000001", country="CN",
                                    address="1 Nanjing Rd, Shanghai", wallet_tier=tier, is_ecny_wallet=wallet))
    creditor = kw.pop("creditor", Party(name="Hans Muller", account="DE89370400440532013000", country="DE"))
    kw.setdefault("debtor_agent", Agent(bic="ICBKCNBJXXX"))
    kw.setdefault("creditor_agent", Agent(bic="DEUTDEFFXXX"))
    return ScreeningRequest(uetr="u-1", debtor=debtor, creditor=creditor, amount=Decimal(amount), currency=currency,
                            **kw)  # type: ignore[arg-type]


def test_tier_per_payment_limit() -> None:
    assert wallet_limits(req("2000.00"), (), NOW, S) == []
    (hit,) = wallet_limits(req("2000.01"), (), NOW, S)
    assert hit.rule == "wallet-tier-per-payment" and hit.reason_code == AMOUNT_NOT_ALLOWED and hit.outcome == "reject"
    assert wallet_limits(req("40000", tier=2), (), NOW, S) == []
    assert wallet_limits(req("9999999", tier=1), (), NOW, S) == []


def test_unknown_tier_is_treated_as_most_restricted_and_non_wallets_are_exempt() -> None:
    assert wallet_limits(req("3000", tier=None), (), NOW, S)
    assert wallet_limits(req("3000", tier=9), (), NOW, S)
    assert wallet_limits(req("3000", wallet=False), (), NOW, S) == []
    assert wallet_limits(req("3000", currency="USD"), (), NOW, S) == []


def test_daily_limit_counts_the_chinese_calendar_day() -> None:
    today = (PastPayment(NOW - timedelta(hours=1), Decimal("2000"), "CNY"),
             PastPayment(NOW - timedelta(hours=1, minutes=5), Decimal("2000"), "CNY"))
    (hit,) = wallet_limits(req("1500"), today, NOW, S)
    assert hit.rule == "wallet-tier-per-day" and hit.reason_code == AMOUNT_EXCEEDS_LIMIT
    assert wallet_limits(req("1000"), today, NOW, S) == []
    # 15:30 UTC the previous day is 23:30 in Beijing: yesterday, so it does not count today.
    yesterday = (PastPayment(datetime(2026, 3, 1, 15, 30, tzinfo=UTC), Decimal("4000"), "CNY"),)
    assert wallet_limits(req("2000"), yesterday, NOW, S) == []
    # 16:30 UTC the previous day is 00:30 in Beijing today: counts.
    just_today = (PastPayment(datetime(2026, 3, 1, 16, 30, tzinfo=UTC), Decimal("4000"), "CNY"),)
    assert wallet_limits(req("2000"), just_today, NOW, S)


def test_fatf16_complete_cross_border_passes() -> None:
    assert fatf16(req("100"), S) == []


@pytest.mark.parametrize(("debtor", "missing"), [
    (Party(name="Wang Fang", country="CN", address="Shanghai"), "originator account"),
    (Party(account="1", country="CN", address="Shanghai"), "originator name"),
    (Party(name="Wang Fang", account="1", country="CN"), "address, national id or date and place of birth"),
])
def test_fatf16_missing_originator_data(debtor: Party, missing: str) -> None:
    (hit,) = fatf16(req("100", debtor=debtor), S)
    assert hit.rule == "fatf-r16" and missing in hit.text and hit.outcome == "hold"


def test_fatf16_alternatives_to_address_and_domestic_exemption() -> None:
    from datetime import date

    with_id = Party(name="Wang Fang", account="1", country="CN", national_id="110101199003070000")
    assert fatf16(req("100", debtor=with_id), S) == []
    with_birth = Party(name="Wang Fang", account="1", country="CN", birth_date=date(1990, 3, 7), birth_place="Beijing")
    assert fatf16(req("100", debtor=with_birth), S) == []
    domestic = req("100", debtor=Party(name="Wang Fang", country="CN"), creditor=Party(name="Li Lei", country="CN"),
                   debtor_agent=Agent(bic="ICBKCNBJXXX"), creditor_agent=Agent(bic="BKCHCNBJXXX"))
    assert fatf16(domestic, S) == []
    strict = ScreeningSettings(fatf16_action="reject")
    (hit,) = fatf16(req("100", debtor=Party(name="Wang Fang", country="CN", address="x")), strict)
    assert hit.outcome == "reject" and hit.reason_code == MISSING_DEBTOR_ACCOUNT


def test_structuring_needs_enough_payments_just_under_the_threshold_in_the_window() -> None:
    under = [PastPayment(NOW - timedelta(hours=h), Decimal("9500"), "USD") for h in (1, 2)]
    assert structuring(req("9800", currency="USD"), tuple(under[:1]), NOW, S) == []
    (hit,) = structuring(req("9800", currency="USD"), tuple(under), NOW, S)
    assert hit.rule == "structuring" and hit.outcome == "hold" and "3 payments" in hit.text
    assert structuring(req("10000", currency="USD"), tuple(under), NOW, S) == []  # at threshold: reported anyway
    assert structuring(req("5000", currency="USD"), tuple(under), NOW, S) == []   # not "just under"
    old = [PastPayment(NOW - timedelta(hours=25), Decimal("9500"), "USD")] * 2
    assert structuring(req("9800", currency="USD"), tuple(old), NOW, S) == []


def test_history_is_trimmed_and_serialisable() -> None:
    h = (PastPayment(NOW - timedelta(days=3), Decimal("1"), "CNY"),)
    h2 = remember(h, req("12.50"), NOW, S)
    assert len(h2) == 1 and h2[0].amount == Decimal("12.50") and h2[0].at == NOW
    assert history_from_json(history_to_json(h2)) == h2
