"""Ledger invariants, checked from what the settlement topics hold (pure; the CLI reads Kafka).

Nothing comes from settings: the journal (``settlement.events``) carries the opening balances
(OPENED), every funding (FUNDED) and every decision with its postings (BOOKED), in booking
order. The check replays it from nothing and reconciles the result with two independent
witnesses: the ledger's own changelog (each account's final state) and the outcomes the corridor
was told. It proves:

* every posting lands where its ``balance_after`` says (a changed posting names its account);
* no balance goes below zero; every booking moves as much out as in, per currency;
* each currency's total equals its openings plus its fundings (money is conserved);
* every request has exactly one decision: COMMIT with both legs' debit and credit exactly as
  requested, or ABORT with no posting; nothing is booked twice, no funding twice, and no
  sender's MsgId is settled twice;
* every decision has exactly one final outcome that agrees with it, and every repeated request
  got a duplicate answer;
* reservations of conditional settlements: each is journaled once (RESERVED, with its holds)
  before its decision; its COMMIT books the held legs, its ABORT releases exactly the holds; every
  posting's and hold's ``reserved_after`` is what the replayed reservations say; each account's
  reserved amount in the changelog equals the holds still open; a held settlement is counted as
  ``held``, not as undecided;
* a set booked by the liquidity-saving mechanism (consecutive COMMITs of one ``lsm_run``, the
  last marked) is checked on its net: balances may dip inside the set, never at its end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from router.settlement.book import Cap, LedgerAccount
from router.settlement.model import (
    Booked,
    CapSet,
    Fund,
    Funded,
    Hold,
    Opened,
    Posting,
    Reserved,
    SettlementOutcome,
    SettlementRequest,
)

ZERO = Decimal(0)
MAX_LISTED = 200


@dataclass
class LedgerView:
    requests: list[SettlementRequest] = field(default_factory=list)
    fundings: list[Fund] = field(default_factory=list)
    journal: list[Opened | Funded | Reserved | Booked | CapSet] = field(default_factory=list)  # booking order
    outcomes: list[SettlementOutcome] = field(default_factory=list)
    accounts: dict[str, LedgerAccount] = field(default_factory=dict)  # the changelog's latest state per account
    caps: dict[str, Cap] = field(default_factory=dict)  # operators' net debit caps, from the changelog


@dataclass
class Report:
    settlements: int
    commits: int
    aborts: int
    undecided: int
    held: int
    lsm_runs: int
    lsm_settlements: int
    duplicates_answered: int
    accounts: int
    currencies: dict[str, dict[str, str]]
    violations: list[str]
    violation_count: int
    abort_reasons: dict[str, int]
    # per LSM pass (bilateral / multilateral): sets booked and the settlements in them
    lsm_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "settlements": self.settlements, "commits": self.commits, "aborts": self.aborts,
            "undecided": self.undecided, "held": self.held, "lsm_runs": self.lsm_runs,
            "lsm_settlements": self.lsm_settlements, "lsm_by_kind": self.lsm_by_kind,
            "duplicates_answered": self.duplicates_answered,
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


@dataclass
class _Replay:
    balance: dict[str, Decimal] = field(default_factory=dict)
    currency: dict[str, str] = field(default_factory=dict)
    opening: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # per currency
    funded: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # per currency
    bookings: dict[str, list[Booked]] = field(default_factory=lambda: defaultdict(list))
    reserved: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # per account
    holds: dict[str, Reserved] = field(default_factory=dict)  # reservations, by settlement id
    in_run: set[str] | None = None  # accounts moved by the LSM set being replayed (checked at its end)


def check(view: LedgerView) -> Report:
    v = _Violations()
    replay = _replay(view.journal, v)
    currencies = _reconcile(replay, view.accounts, v)
    requested: dict[str, SettlementRequest] = {}
    req_count: Counter[str] = Counter()
    for r in view.requests:
        req_count[r.settlement_id] += 1
        requested.setdefault(r.settlement_id, r)
    decided = replay.bookings
    for sid, bs in decided.items():
        if len(bs) > 1:
            v.add(f"settlement {sid} decided {len(bs)} times: {[b.decision for b in bs]}")
        req = requested.get(sid)
        if req is None:
            v.add(f"decision for {sid} without a request")
        else:
            _check_legs(req, bs[0], v)
    for sid, res in replay.holds.items():
        req = requested.get(sid)
        if req is None or req.condition_id != res.condition_id:
            v.add(f"reservation {sid} without a conditional request for condition {res.condition_id}")
        elif sorted((h.account, h.amount) for h in res.holds) != sorted(
                (leg.debit_account, leg.amount) for leg in req.legs):
            v.add(f"reservation {sid} does not hold exactly its legs' debits")
    held = [sid for sid in replay.holds if sid not in decided]
    undecided = [sid for sid in requested if sid not in decided and sid not in replay.holds]
    for sid in undecided[:20]:
        v.add(f"settlement {sid} is undecided")
    if len(undecided) > 20:
        v.add(f"... and {len(undecided) - 20} more undecided settlements")
        v.count += len(undecided) - 21
    dup_answers = _check_outcomes(req_count, decided, view.outcomes, v)
    committed: dict[tuple[str, str], str] = {}
    for sid, bs in decided.items():
        b = bs[0]
        if b.decision == "COMMIT":
            if (b.sender, b.msg_id) in committed:
                v.add(f"sender {b.sender} MsgId {b.msg_id} settled twice: {committed[(b.sender, b.msg_id)]} and {sid}")
            committed[(b.sender, b.msg_id)] = sid
    final = [bs[0] for bs in decided.values()]
    reasons = Counter(b.reason or "" for b in final if b.decision == "ABORT")
    return Report(
        settlements=len(requested), commits=sum(1 for b in final if b.decision == "COMMIT"),
        aborts=sum(1 for b in final if b.decision == "ABORT"), undecided=len(undecided), held=len(held),
        lsm_runs=len({b.lsm_run for b in final if b.lsm_run}), lsm_settlements=sum(1 for b in final if b.lsm_run),
        lsm_by_kind=_lsm_by_kind(final),
        duplicates_answered=dup_answers, accounts=len(replay.balance), currencies=currencies,
        violations=v.items, violation_count=v.count, abort_reasons=dict(sorted(reasons.items())),
    )


def _lsm_by_kind(final: list[Booked]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    runs: dict[str, set[str]] = defaultdict(set)
    for b in final:
        if b.lsm_run:
            kind: str = b.lsm_kind or "unknown"  # journals written before the kind was recorded
            runs[kind].add(b.lsm_run)
            out.setdefault(kind, {"sets": 0, "settlements": 0})["settlements"] += 1
    for kind, ids in runs.items():
        out[kind]["sets"] = len(ids)
    return dict(sorted(out.items()))


def _replay(journal: list[Opened | Funded | Reserved | Booked | CapSet], v: _Violations) -> _Replay:
    rp = _Replay()
    funds: Counter[str] = Counter()
    for j in journal:
        if isinstance(j, Opened):
            if j.account in rp.balance:
                v.add(f"{j.account}: opened twice")
                continue
            rp.balance[j.account] = j.amount
            rp.currency[j.account] = j.currency
            rp.opening[j.currency] += j.amount
            if j.amount < 0:
                v.add(f"{j.account}: opened with a negative balance {j.amount}")
        elif isinstance(j, Funded):
            funds[j.fund_id] += 1
            if funds[j.fund_id] > 1:
                v.add(f"funding {j.fund_id} booked {funds[j.fund_id]} times on {j.posting.account}")
            if _post(rp, j.posting, f"funding {j.fund_id}", v):
                rp.funded[j.posting.currency] += j.posting.amount
        elif isinstance(j, CapSet):
            continue  # an operator's audited cap change: moves no money
        elif isinstance(j, Reserved):
            if j.settlement_id in rp.holds or j.settlement_id in rp.bookings:
                v.add(f"{j.settlement_id}: reserved twice, or after its decision")
                continue
            rp.holds[j.settlement_id] = j
            for h in j.holds:
                _hold(rp, h, +1, f"reservation {j.settlement_id}", v)
        else:
            rp.bookings[j.settlement_id].append(j)
            res = rp.holds.get(j.settlement_id) if len(rp.bookings[j.settlement_id]) == 1 else None
            if j.decision == "ABORT":
                if j.postings:
                    v.add(f"{j.settlement_id} aborted but booked {len(j.postings)} postings")
                given = sorted((h.account, h.amount) for h in j.released)
                if given != sorted((h.account, h.amount) for h in (res.holds if res else ())):
                    v.add(f"{j.settlement_id} aborted releasing {given}, not its holds")
                for h in j.released:
                    _hold(rp, h, -1, f"release of {j.settlement_id}", v)
                continue
            if j.released:
                v.add(f"{j.settlement_id} committed but says it released holds")
            moved: dict[str, Decimal] = defaultdict(Decimal)
            if j.lsm_run is not None and rp.in_run is None:
                rp.in_run = set()
            for p in j.postings:
                if res is not None and p.direction == "DBIT":
                    rp.reserved[p.account] -= p.amount  # booked from its hold
                if _post(rp, p, f"settlement {j.settlement_id}", v):
                    moved[p.currency] += p.amount if p.direction == "CRDT" else -p.amount
            for ccy, net in moved.items():
                if net != 0:
                    v.add(f"settlement {j.settlement_id} does not balance in {ccy}: net {net}")
            if j.lsm_run is not None and j.lsm_last:
                for acct in sorted(rp.in_run or ()):
                    if rp.balance[acct] - rp.reserved[acct] < 0:
                        v.add(f"{acct}: available below zero after LSM set {j.lsm_run}")
                rp.in_run = None
    if rp.in_run is not None:
        v.add("an LSM set was never closed (its last record is missing)")
    return rp


def _post(rp: _Replay, p: Posting, what: str, v: _Violations) -> bool:
    """Apply one posting to the replayed balances; False (and a violation) when it cannot be."""
    if p.account not in rp.balance:
        v.add(f"{p.account}: {what} posts to an account never opened")
        return False
    if p.currency != rp.currency[p.account]:
        v.add(f"{p.account}: {what} posts {p.currency} to an account in {rp.currency[p.account]}")
        return False
    if p.amount <= 0:
        v.add(f"{p.account}: {what} posts a non-positive amount {p.amount}")
    after = rp.balance[p.account] + (p.amount if p.direction == "CRDT" else -p.amount)
    rp.balance[p.account] = after
    if after != p.balance_after:
        v.add(f"{p.account}: {what} says balance {p.balance_after} but the journal replays to {after}")
    if rp.in_run is not None:
        rp.in_run.add(p.account)  # within an LSM set only the set's end must be fundable
    elif after - p.reserved_after < 0:
        v.add(f"{p.account}: available below zero ({after} - reserved {p.reserved_after}) after {what}")
    if p.reserved_after != rp.reserved[p.account]:
        v.add(f"{p.account}: {what} says reserved {p.reserved_after} but open holds are {rp.reserved[p.account]}")
    return True


def _hold(rp: _Replay, h: Hold, sign: int, what: str, v: _Violations) -> None:
    """Apply one hold (+1) or release (-1) to the replayed reservations."""
    if h.account not in rp.balance:
        v.add(f"{h.account}: {what} holds funds on an account never opened")
        return
    if h.amount <= 0:
        v.add(f"{h.account}: {what} holds a non-positive amount {h.amount}")
    rp.reserved[h.account] += sign * h.amount
    after = rp.reserved[h.account]
    if after != h.reserved_after or h.balance_after != rp.balance[h.account]:
        v.add(f"{h.account}: {what} says balance {h.balance_after} reserved {h.reserved_after}, the journal "
              f"replays to {rp.balance[h.account]} reserved {after}")
    if after < 0 or rp.balance[h.account] - after < 0:
        v.add(f"{h.account}: {what} leaves reserved {after} on balance {rp.balance[h.account]}")


def _reconcile(rp: _Replay, accounts: dict[str, LedgerAccount], v: _Violations) -> dict[str, dict[str, str]]:
    """The replayed journal against the ledger's changelog, and each currency's conservation."""
    for acct in sorted(rp.balance.keys() | accounts.keys()):
        a = accounts.get(acct)
        if a is None:
            v.add(f"{acct}: in the journal but not in the ledger state")
        elif acct not in rp.balance:
            v.add(f"{acct}: in the ledger state but never opened in the journal")
        elif a.balance != rp.balance[acct]:
            v.add(f"{acct}: ledger state balance {a.balance} != journal {rp.balance[acct]}")
        elif a.reserved != rp.reserved.get(acct, ZERO):
            v.add(f"{acct}: ledger state reserved {a.reserved} != open holds in the journal {rp.reserved[acct]}")
        if a is not None and (a.reserved < 0 or a.available < 0):
            v.add(f"{acct}: balance {a.balance} reserved {a.reserved} (available below zero)")
    total: dict[str, Decimal] = defaultdict(Decimal)
    reserved: dict[str, Decimal] = defaultdict(Decimal)
    for acct, bal in rp.balance.items():
        total[rp.currency[acct]] += bal
    for a in accounts.values():
        reserved[a.currency] += a.reserved
    out: dict[str, dict[str, str]] = {}
    for ccy in sorted(total.keys() | rp.opening.keys()):
        expected = rp.opening[ccy] + rp.funded[ccy]
        if total[ccy] != expected:
            v.add(f"{ccy} not conserved: balances {total[ccy]} != opening {rp.opening[ccy]} + funded {rp.funded[ccy]}")
        out[ccy] = {"opening": str(rp.opening[ccy]), "funded": str(rp.funded[ccy]), "balances": str(total[ccy]),
                    "reserved": str(reserved[ccy])}
    return out


def _check_legs(req: SettlementRequest, b: Booked, v: _Violations) -> None:
    if b.decision != "COMMIT":
        return
    lines = Counter((p.account, p.direction, p.amount) for p in b.postings)
    for leg in req.legs:
        for line in ((leg.debit_account, "DBIT", leg.amount), (leg.credit_account, "CRDT", leg.amount)):
            if lines[line] != 1:
                v.add(f"{req.settlement_id} leg {leg.leg}: {line[1]} {line[0]} {line[2]} booked {lines[line]} times")
            lines[line] -= 1
    extra = [line for line, n in lines.items() if n > 0]
    if extra:
        v.add(f"{req.settlement_id}: postings beyond its legs: {extra}")


def _check_outcomes(req_count: Counter[str], decided: dict[str, list[Booked]], outcomes: list[SettlementOutcome],
                    v: _Violations) -> int:
    finals: dict[str, list[SettlementOutcome]] = defaultdict(list)
    dups: Counter[str] = Counter()
    for o in outcomes:
        if o.final:
            finals[o.settlement_id].append(o)
        elif o.decision == "DUPLICATE":
            dups[o.settlement_id] += 1
    for sid, bs in decided.items():
        got = finals.get(sid, [])
        if len(got) != 1:
            v.add(f"{sid}: {len(got)} final outcomes")
        elif got[0].decision != bs[0].decision:
            v.add(f"{sid}: outcome {got[0].decision} contradicts decision {bs[0].decision}")
    for sid in finals.keys() - decided.keys():
        v.add(f"{sid}: final outcome without a decision")
    for sid, n in req_count.items():
        if sid in decided and dups[sid] != n - 1:
            v.add(f"{sid}: {n} requests but {dups[sid]} duplicate answers")
    return sum(dups.values())
