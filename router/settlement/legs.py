"""Building a payment's two PvP legs (for the payment pipeline and the load generator)."""

from __future__ import annotations

from decimal import Decimal

from router.settlement.model import Leg
from router.settlement.settings import SettlementSettings


def account_id(owner: str, currency: str) -> str:
    """The corridor's account naming: one account per participant and currency."""
    return f"{owner}/{currency}"


def fx_provider_for(settings: SettlementSettings, currency: str) -> str | None:
    """The first configured FX provider holding accounts in both CNY and ``currency``."""
    for fx in settings.fx_providers:
        if account_id(fx, "CNY") in settings.opening_balances and \
                account_id(fx, currency) in settings.opening_balances:
            return fx
    return None


def pvp_legs(*, debtor: str, creditor: str, fx_provider: str, cny_amount: Decimal, foreign_currency: str,
             foreign_amount: Decimal) -> tuple[Leg, Leg]:
    """The two legs of a CNY -> foreign payment: the debtor pays the FX provider CNY, the FX
    provider pays the creditor (correspondent) in the foreign currency."""
    return (
        Leg(leg="cny", debit_account=account_id(debtor, "CNY"), credit_account=account_id(fx_provider, "CNY"),
            currency="CNY", amount=cny_amount),
        Leg(leg="foreign", debit_account=account_id(fx_provider, foreign_currency),
            credit_account=account_id(creditor, foreign_currency), currency=foreign_currency,
            amount=foreign_amount),
    )
