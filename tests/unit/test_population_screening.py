"""The demo's customers against the real default lists: namesakes of listed Chinese persons are
held (rightly, a few in a thousand); no generated company name sits on a list."""

from __future__ import annotations

import random

from connectors.population import chinese_customer, foreign_customer
from router.iso20022.directory import load_directory
from router.screening.loaders import load_list
from router.screening.model import Party
from router.screening.screener import Screener
from router.screening.settings import DEFAULT_LISTS, ScreeningSettings


def test_generated_customers_are_rarely_held_and_never_for_a_generated_company_name() -> None:
    screener = Screener([load_list(p) for p in DEFAULT_LISTS], ScreeningSettings())
    d = load_directory()
    rng = random.Random(11)
    held: list[str] = []
    customers = [chinese_customer(d, rng) for _ in range(600)]
    customers += [foreign_customer(bank, rng) for bank in d.correspondents for _ in range(60)]
    for c in customers:
        country = c.party.address.country if c.party.address else None
        if screener.screen_name(c.party.name, subject=Party(country=country)):
            held.append(c.party.name or "")
    # Chinese namesakes of listed persons (李怡 is "LI, Yi") are held; nothing else is.
    assert len(held) <= 0.01 * len(customers), held
    assert all(not n.isascii() for n in held), held
