"""Ledger invariants, checked from what the settlement topics hold (pure; the CLI reads Kafka).

The journal (settlement.events) and the account changelog are independent witnesses: the
check reconciles every account's final state with its postings, every settlement's decision
with its bookings and outcomes, and every currency's total with its openings and fundings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from router.settlement.ledger import NOT_RESERVED, AccountState
from router.settlement.model import AccountEvent, Decision, SettlementOutcome, SettlementRequest
from router.settlement.settings import AccountOpening

ZERO = Decimal(0)
MAX_LISTED = 200


@dataclass
class LedgerView:
    requests: list[SettlementRequest] = field(default_factory=list)
    events: list[AccountEvent | Decision] = field(default_factory=list)
    outcomes: list[SettlementOutcome] = field(default_factory=list)
    accounts: dict[str, AccountState] = field(default_factory=dict)  # latest state per account id


@dataclass
class Report:
    settlements: int
    commits: int
    aborts: int
    undecided: int
    duplicates_answered: int
    accounts: int
    currencies: dict[str, dict[str, str]]
    violations: list[str]
    violation_count: int
    abort_reasons: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "settlements": self.settlements, "commits": self.commits, "aborts": self.aborts,
            "undecided": self.undecided, "duplicates_answered": self.duplicates_answered,
            "abort_reasons": self.abort_reasons, "accounts": self.accounts, "currencies": self.currencies,
            "violation_count": self.violation_count, "violations": self.violations,
        }


class _Violations:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, msg: str) -> None:
        self.count += 1
        if len(self.items) < MAX_LISTED:
            self.items.append(msg)


def check(view: LedgerView, opening: Mapping[str, AccountOpening]) -> Report:
    v = _Violations()
    decisions = [e for e in view.events if isinstance(e, Decision)]
    acct_events = [e for e in view.events if isinstance(e, AccountEvent)]
    _check_accounts(view, acct_events, opening, v)
    currencies = _check_conservation(view, acct_events, opening, v)
    requested: dict[str, SettlementRequest] = {}
    req_count: Counter[str] = Counter()
    for r in view.requests:
        req_count[r.settlement_id] += 1
        requested.setdefault(r.settlement_id, r)
    by_sid: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        by_sid[d.settlement_id].append(d)
    for sid, ds in by_sid.items():
        if len(ds) > 1:
            v.add(f"settlement {sid} decided {len(ds)} times: {[d.decision for d in ds]}")
        if sid not in requested:
            v.add(f"decision for {sid} without a request")
    undecided = [sid for sid in requested if sid not in by_sid]
    for sid in undecided[:20]:
        v.add(f"settlement {sid} is undecided")
    if len(undecided) > 20:
        v.add(f"... and {len(undecided) - 20} more undecided settlements")
        v.count += len(undecided) - 21
    _check_bookings(requested, by_sid, acct_events, v)
    dup_answers = _check_outcomes(requested, req_count, by_sid, view.outcomes, v)
    _check_msgids(requested, by_sid, v)
    if not undecided:
        for a in view.accounts.values():
            if a.reserved != 0 or a.queue:
                v.add(f"{a.account}: reservation {a.reserved} / queue {len(a.queue)} left after every "
                      "settlement was decided")
    final = {sid: ds[0] for sid, ds in by_sid.items()}
    reasons = Counter(d.reason or "" for d in final.values() if d.decision == "ABORT")
    return Report(
        settlements=len(requested), commits=sum(1 for d in final.values() if d.decision == "COMMIT"),
        aborts=sum(1 for d in final.values() if d.decision == "ABORT"), undecided=len(undecided),
        duplicates_answered=dup_answers, accounts=len(view.accounts), currencies=currencies,
        violations=v.items, violation_count=v.count, abort_reasons=dict(sorted(reasons.items())),
    )


def _check_accounts(view: LedgerView, events: list[AccountEvent], opening: Mapping[str, AccountOpening],
                    v: _Violations) -> None:
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for e in events:
        if e.available_after is not None and e.available_after < 0:
            v.add(f"{e.account}: available {e.available_after} below zero after {e.type} {e.settlement_id}")
        if e.type == "REJECTED" and e.reason == NOT_RESERVED:
            v.add(f"{e.account}: COMMIT of {e.settlement_id}/{e.leg} without a reservation")
        p = e.posting
        if p is None:
            continue
        if p.balance_after - p.reserved_after < 0:
            v.add(f"{p.account}: available below zero after {e.type} {e.settlement_id}")
        moved[p.account] += p.amount if p.direction == "CRDT" else -p.amount
    for acct, a in view.accounts.items():
        if a.reserved < 0 or a.available < 0:
            v.add(f"{acct}: balance {a.balance} reserved {a.reserved} (available below zero)")
        start = opening[acct].amount if acct in opening else ZERO
        if start + moved.get(acct, ZERO) != a.balance:
            v.add(f"{acct}: balance {a.balance} != opening {start} + postings {moved.get(acct, ZERO)}")
    for acct in moved.keys() - view.accounts.keys():
        v.add(f"{acct}: postings in the journal but no account state")


def _check_conservation(view: LedgerView, events: list[AccountEvent], opening: Mapping[str, AccountOpening],
                        v: _Violations) -> dict[str, dict[str, str]]:
    open_sum: dict[str, Decimal] = defaultdict(Decimal)
    funded: dict[str, Decimal] = defaultdict(Decimal)
    bal: dict[str, Decimal] = defaultdict(Decimal)
    res: dict[str, Decimal] = defaultdict(Decimal)
    for acct, o in opening.items():
        open_sum[o.currency] += o.amount
        if acct not in view.accounts:
            bal[o.currency] += o.amount
    for a in view.accounts.values():
        bal[a.currency] += a.balance
        res[a.currency] += a.reserved
    seen_funds: Counter[tuple[str, str]] = Counter()
    for e in events:
        if e.type == "FUNDED" and e.amount is not None and e.currency is not None:
            funded[e.currency] += e.amount
            seen_funds[(e.account, e.settlement_id)] += 1
    for (acct, fid), n in seen_funds.items():
        if n > 1:
            v.add(f"funding {fid} booked {n} times on {acct}")
    out: dict[str, dict[str, str]] = {}
    for ccy in sorted(open_sum.keys() | bal.keys() | funded.keys()):
        expected = open_sum[ccy] + funded[ccy]
        if bal[ccy] != expected:
            v.add(f"{ccy} not conserved: balances {bal[ccy]} != opening {open_sum[ccy]} + funded {funded[ccy]}")
        out[ccy] = {"opening": str(open_sum[ccy]), "funded": str(funded[ccy]), "balances": str(bal[ccy]),
                    "reserved": str(res[ccy])}
    return out


def _check_bookings(requested: Mapping[str, SettlementRequest], by_sid: Mapping[str, list[Decision]],
                    events: Iterable[AccountEvent], v: _Violations) -> None:
    booked: dict[tuple[str, str, str], list[AccountEvent]] = defaultdict(list)
    for e in events:
        if e.type in ("COMMITTED", "CREDITED"):
            booked[(e.settlement_id, e.leg or "", e.type)].append(e)
    for key, evs in booked.items():
        if len(evs) > 1:
            v.add(f"{key[0]} leg {key[1]}: {key[2]} booked {len(evs)} times")
        if key[0] not in by_sid:
            v.add(f"{key[0]} leg {key[1]}: {key[2]} booked without a decision")
    for sid, ds in by_sid.items():
        req = requested.get(sid)
        if req is None:
            continue
        decision = ds[0].decision
        for leg in req.legs:
            debit = booked.get((sid, leg.leg, "COMMITTED"), [])
            credit = booked.get((sid, leg.leg, "CREDITED"), [])
            if decision == "ABORT":
                if debit or credit:
                    v.add(f"{sid} aborted but leg {leg.leg} booked")
                continue
            if not debit or not credit:
                v.add(f"{sid} committed but leg {leg.leg} not fully booked (debit {len(debit)}, credit {len(credit)})")
                continue
            if debit[0].account != leg.debit_account or debit[0].amount != leg.amount:
                v.add(f"{sid} leg {leg.leg}: debit {debit[0].account} {debit[0].amount} does not match the request")
            if credit[0].account != leg.credit_account or credit[0].amount != leg.amount:
                v.add(f"{sid} leg {leg.leg}: credit {credit[0].account} {credit[0].amount} does not match the request")


def _check_outcomes(requested: Mapping[str, SettlementRequest], req_count: Mapping[str, int],
                    by_sid: Mapping[str, list[Decision]], outcomes: Iterable[SettlementOutcome], v: _Violations) -> int:
    finals: dict[str, list[SettlementOutcome]] = defaultdict(list)
    dups: Counter[str] = Counter()
    for o in outcomes:
        if o.final:
            finals[o.settlement_id].append(o)
        elif o.decision == "DUPLICATE":
            dups[o.settlement_id] += 1
    for sid, ds in by_sid.items():
        got = finals.get(sid, [])
        if len(got) != 1:
            v.add(f"{sid}: {len(got)} final outcomes")
        elif got[0].decision != ds[0].decision:
            v.add(f"{sid}: outcome {got[0].decision} contradicts decision {ds[0].decision}")
    for sid in finals.keys() - by_sid.keys():
        v.add(f"{sid}: final outcome without a decision")
    for sid, n in req_count.items():
        if sid in by_sid and dups[sid] != n - 1:
            v.add(f"{sid}: {n} requests but {dups[sid]} duplicate answers")
    return sum(dups.values())


def _check_msgids(requested: Mapping[str, SettlementRequest], by_sid: Mapping[str, list[Decision]],
                  v: _Violations) -> None:
    committed: dict[tuple[str, str], str] = {}
    for sid, ds in by_sid.items():
        req = requested.get(sid)
        if req is None or ds[0].decision != "COMMIT":
            continue
        key = (req.sender, req.msg_id)
        if key in committed:
            v.add(f"sender {req.sender} MsgId {req.msg_id} settled twice: {committed[key]} and {sid}")
        committed[key] = sid
