"""Which accounts each currency leg of a settlement moves.

Account ids are ``OWNER/CCY`` where OWNER is the institution's 8-character BIC (CIPS participants,
e-CNY operating institutions, FX providers and correspondents alike). A payment from the CIPS
side is paid in CNY by the debtor's participant (for an e-CNY wallet, its operating institution)
to the FX provider, and in the foreign currency by the FX provider to the beneficiary's
correspondent; an inbound payment mirrors that. Without an FX conversion there is one leg.
"""

from __future__ import annotations

from decimal import Decimal

from router.iso20022.directory import Directory
from router.iso20022.model import Agent, Payment
from router.settlement.model import Leg


def owner(agent: Agent | None, directory: Directory) -> str | None:
    """The account owner id of an agent: its BIC8 (a CIPS participant id is looked up)."""
    if agent is None:
        return None
    bic = agent.bic
    if not bic and agent.cips_id:
        found = directory.by_cips(agent.cips_id)
        bic = found.bic if found else None
    return bic.strip().upper()[:8] if bic else None


def account(owner_id: str, currency: str) -> str:
    return f"{owner_id}/{currency}"


def payer(p: Payment, directory: Directory) -> str | None:
    """Who pays the first leg: the instructing agent if given, else the debtor agent."""
    return owner(p.instructing_agent, directory) or owner(p.debtor_agent, directory)


def payee(p: Payment, directory: Directory) -> str | None:
    """Who receives the last leg: the creditor agent."""
    return owner(p.creditor_agent, directory)


def forward_legs(
    p: Payment, directory: Directory, *, fx_provider: str | None, amount_out: Decimal, currency_out: str,
) -> tuple[Leg, ...]:
    """Legs of a payment: payer -> FX provider in the sent currency, FX provider -> payee in the
    delivered currency; one direct leg when no conversion happens."""
    src, dst = payer(p, directory), payee(p, directory)
    if src is None or dst is None:
        raise ValueError("payer and payee agents need BICs to settle")
    first_leg = "cny" if p.currency == "CNY" else "foreign"
    second_leg = "foreign" if first_leg == "cny" else "cny"
    if fx_provider is None or currency_out == p.currency:
        return _interbank(Leg(leg=first_leg, debit_account=account(src, p.currency),
                              credit_account=account(dst, p.currency), currency=p.currency,
                              amount=p.settlement_amount) if src != dst else None)
    return _interbank(
        Leg(leg=first_leg, debit_account=account(src, p.currency), credit_account=account(fx_provider, p.currency),
            currency=p.currency, amount=p.settlement_amount) if src != fx_provider else None,
        Leg(leg=second_leg, debit_account=account(fx_provider, currency_out),
            credit_account=account(dst, currency_out), currency=currency_out, amount=amount_out)
        if fx_provider != dst else None,
    )


def _interbank(*legs: Leg | None) -> tuple[Leg, ...]:
    """The legs that move money between institutions. When the payer (or payee) is itself the FX
    provider, that currency leg is a book transfer inside one bank and not settled here."""
    kept = tuple(leg for leg in legs if leg is not None)
    if not kept:
        raise ValueError("nothing to settle between different institutions")
    return kept


def reverse_legs(
    p: Payment, directory: Directory, *, fx_provider: str | None, amount_back: Decimal, currency_back: str,
    amount_to_sender: Decimal,
) -> tuple[Leg, ...]:
    """Legs that bring money back: payee -> FX provider in the delivered currency, FX provider ->
    payer in the original currency (at the rate of the moment of the return)."""
    src, dst = payer(p, directory), payee(p, directory)
    if src is None or dst is None:
        raise ValueError("payer and payee agents need BICs to settle")
    back_leg = "cny" if currency_back == "CNY" else "foreign"
    home_leg = "foreign" if back_leg == "cny" else "cny"
    if fx_provider is None or currency_back == p.currency:
        return _interbank(Leg(leg=back_leg, debit_account=account(dst, currency_back),
                              credit_account=account(src, currency_back), currency=currency_back,
                              amount=amount_back) if src != dst else None)
    return _interbank(
        Leg(leg=back_leg, debit_account=account(dst, currency_back),
            credit_account=account(fx_provider, currency_back), currency=currency_back, amount=amount_back)
        if dst != fx_provider else None,
        Leg(leg=home_leg, debit_account=account(fx_provider, p.currency), credit_account=account(src, p.currency),
            currency=p.currency, amount=amount_to_sender) if fx_provider != src else None,
    )
