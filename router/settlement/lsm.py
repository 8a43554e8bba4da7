"""Liquidity-saving mechanism: which queued settlements can be booked together on their net.

Settlements wait in the liquidity queue because one of their debit accounts cannot pay its leg
gross. Several of them together may still be fundable: opposite-direction payments between the
same participants offset, and a ring of payments among several participants can clear each other
(RTGS LSMs and CLS do this). ``offset_set`` finds such a set: it starts from every candidate and,
while some account would end below zero on the set's net, drops the newest settlement that
debits such an account. What is left is booked in one atomic step; each settlement keeps its own
gross COMMIT record with every posting, and only the funding check is on the net.

Dropping the newest first keeps the queue's order (FIFO): an older settlement is never given up
for a younger one. Passes (``router.settlement.pvp.offset``): bilateral first (settlements that
touch the same accounts, i.e. the same participants through the same FX provider, in both
directions), then one multilateral pass over everything still queued, then seeded passes.

One pass from the whole queue misses sets: dropping the newest debit of one short account can take
away the credit another account needed, and the drops cascade until nothing is left, although a
smaller set around an older settlement was fundable (on the demo's mix, a quarter of the payments
that timed out had one at the moment they did). So the seeded passes start again from the whole
queue with one settlement ``pinned`` (never dropped): the oldest still queued first, as they are
the nearest to their queue deadline. A pinned search that cannot fund its pin finds nothing.

Pure: the available balances and the candidates in, the chosen settlement ids out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from router.settlement.model import SettlementRequest

ZERO = Decimal(0)


def net_of(items: Sequence[tuple[str, SettlementRequest]]) -> dict[str, Decimal]:
    """Each account's net movement if every settlement in ``items`` were booked."""
    net: dict[str, Decimal] = defaultdict(Decimal)
    for _, req in items:
        for leg in req.legs:
            net[leg.debit_account] -= leg.amount
            net[leg.credit_account] += leg.amount
    return net


def offset_set(available: Mapping[str, Decimal], items: Sequence[tuple[str, SettlementRequest]],
               headroom: Mapping[str, Decimal] | None = None, *, pinned: str | None = None) -> list[str]:
    """The settlements of ``items`` (in queue order) that can be booked together: every account's
    available balance plus its net movement stays at or above zero, and no account's net debit
    exceeds its ``headroom`` (what its owner's net debit cap still allows). Newest dropped first;
    ``pinned`` is never dropped (nothing is found when no set around it is fundable)."""
    chosen = list(items)
    net = net_of(chosen)  # kept up to date as settlements are dropped: one pass over the queue in all
    while chosen:
        short = {a for a, v in net.items()
                 if available.get(a, ZERO) + v < 0 or (headroom is not None and a in headroom and -v > headroom[a])}
        if not short:
            return [sid for sid, _ in chosen]
        for i in range(len(chosen) - 1, -1, -1):
            legs = chosen[i][1].legs
            if chosen[i][0] != pinned and any(leg.debit_account in short for leg in legs):
                del chosen[i]
                for leg in legs:
                    net[leg.debit_account] += leg.amount
                    net[leg.credit_account] -= leg.amount
                break
        else:  # only the pinned settlement debits a short account: no set around it
            return []
    return []


def two_way(items: Sequence[tuple[str, SettlementRequest]]) -> bool:
    """Whether ``items`` hold payments in both directions (some account is debited by one and
    credited by another): only then can a bilateral set offset anything."""
    debited = {leg.debit_account for _, r in items for leg in r.legs}
    credited = {leg.credit_account for _, r in items for leg in r.legs}
    return bool(debited & credited)


def bilateral_groups(items: Sequence[tuple[str, SettlementRequest]]) -> list[list[tuple[str, SettlementRequest]]]:
    """Queued settlements grouped by the accounts they touch (in queue order), two-way groups only."""
    groups: dict[frozenset[str], list[tuple[str, SettlementRequest]]] = defaultdict(list)
    for sid, req in items:
        groups[frozenset(a for leg in req.legs for a in (leg.debit_account, leg.credit_account))].append((sid, req))
    return [g for g in groups.values() if len(g) > 1 and two_way(g)]
