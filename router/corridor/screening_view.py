"""What screening sees of a payment: the canonical ISO model mapped onto the screening request.

The simulated e-CNY wallet id carries its wallet category (KYC tier 1-4) in its fourth digit,
after the operating institution's 3-digit prefix; tier limits apply to wallets only.
"""

from __future__ import annotations

import pycountry

from router.iso20022.directory import WALLET_ID, Directory
from router.iso20022.model import Account, Agent, Party, Payment, PostalAddress
from router.screening.model import Agent as SAgent
from router.screening.model import Party as SParty
from router.screening.model import ScreeningRequest


def wallet_tier(account: Account | None, directory: Directory) -> int | None:
    if account is None or not WALLET_ID.match(account.id) or directory.wallet_operator(account.id) is None:
        return None
    digit = int(account.id[3])
    return digit if 1 <= digit <= 4 else None


def _address(a: PostalAddress | None) -> str | None:
    if a is None:
        return None
    parts = [a.street, a.building_number, a.post_code, a.town, a.country, *a.lines]
    return " ".join(p for p in parts if p) or None


# Identification schemes that name a natural person's national document (ISO external codes).
_NATIONAL_SCHEMES = ("NIDN", "CCPT", "SOSE", "TXID")


def _birth_place(p: Party) -> str | None:
    country = None
    if p.birth_country:
        found = pycountry.countries.get(alpha_2=p.birth_country.upper())
        country = found.name if found else p.birth_country
    return ", ".join(x for x in (p.birth_city, p.birth_province, country) if x) or None


def _party(p: Party | None, account: Account | None, directory: Directory) -> SParty:
    if p is None:
        return SParty(account=account.id if account else None)
    tier = wallet_tier(account, directory)
    ids = (*p.private_ids, *p.org_ids)
    national = next((i.id for s in _NATIONAL_SCHEMES for i in p.private_ids if i.scheme == s),
                    p.private_ids[0].id if p.private_ids else None)
    numbers = tuple(dict.fromkeys((*(i.id for i in ids), *((p.lei,) if p.lei else ()))))
    return SParty(name=p.name, name_original=p.name_original,
                  country=(p.address.country if p.address else None) or p.residence_country,
                  account=account.id if account else None, address=_address(p.address), wallet_tier=tier,
                  is_ecny_wallet=tier is not None, national_id=national, id_numbers=numbers,
                  birth_date=p.birth_date, birth_place=_birth_place(p), residence_country=p.residence_country,
                  bic=p.bic)


def _agent(a: Agent | None, directory: Directory) -> SAgent:
    if a is None:
        return SAgent()
    bic = a.bic
    if not bic and a.cips_id:
        found = directory.by_cips(a.cips_id)
        bic = found.bic if found else None
    known = directory.by_bic(bic) if bic else None
    country = (a.address.country if a.address else None) or (known.country if known else None) or (
        bic[4:6] if bic and len(bic) >= 6 else None)
    return SAgent(bic=bic, country=country)


def _institution(a: Agent, directory: Directory) -> SParty:
    """In an FI transfer (pacs.009) the originator and beneficiary are the banks themselves,
    identified by BIC, name and address from the participant directory."""
    view = _agent(a, directory)
    known = directory.by_bic(view.bic) if view.bic else None
    return SParty(name=a.name or (known.name if known else None), country=view.country, account=view.bic,
                  address=" ".join(x for x in ((known.town if known else None), view.country) if x) or None)


def screening_request(p: Payment, directory: Directory) -> ScreeningRequest:
    if p.kind == "pacs.009":
        debtor, creditor = _institution(p.debtor_agent, directory), _institution(p.creditor_agent, directory)
    else:
        debtor = _party(p.debtor, p.debtor_account, directory)
        creditor = _party(p.creditor, p.creditor_account, directory)
    return ScreeningRequest(
        uetr=p.uetr, debtor=debtor, creditor=creditor,
        ultimate_debtor=_party(p.ultimate_debtor, None, directory) if p.ultimate_debtor else None,
        ultimate_creditor=_party(p.ultimate_creditor, None, directory) if p.ultimate_creditor else None,
        debtor_agent=_agent(p.debtor_agent, directory), creditor_agent=_agent(p.creditor_agent, directory),
        intermediaries=tuple(_agent(a, directory) for a in p.intermediary_agents),
        amount=p.settlement_amount, currency=p.currency,
        debtor_id=debtor.account or (p.debtor.name if p.debtor else None), created_at=p.created)
