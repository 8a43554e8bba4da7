"""What the operator's liquidity view shows, folded from the ledger's own topics (pure).

The ledger shard's changelog (``settlement.ledger.state``) says where each account stands
(balance, reserved, net position), which settlements wait in the liquidity queue or hold
reservations for a condition, and which net debit caps operators set. Its journal
(``settlement.events``) says what the liquidity-saving mechanism booked and which operator
funded an account or changed a cap. ``router ledger balances`` reads the same records
(``router.ledger_reader``); nothing here comes from the settle-worker's memory.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pydantic import ValidationError

from router.settlement.book import ACCT, CAP, SID, Cap, LedgerAccount, SettlementReceipt, decode, kind_of
from router.settlement.model import JOURNAL, Booked, CapSet, Funded, SettlementRequest

RECENT = 20  # LSM runs and operator actions kept for the page


@dataclass(frozen=True)
class LsmRun:
    run: str
    kind: str
    settlements: int
    at: datetime
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class OperatorAction:
    what: str  # "fund" | "cap"
    by: str | None
    subject: str  # the account funded / the participant capped
    amount: Decimal | None
    at: datetime


@dataclass(frozen=True)
class ParticipantRow:
    participant: str
    accounts: tuple[LedgerAccount, ...]
    queued: int  # settlements in the liquidity queue that debit one of its accounts
    queued_amount: dict[str, Decimal]  # by currency
    holds: int  # conditional settlements holding reservations on its accounts
    cap: Decimal | None
    cap_by: str | None  # the operator who set the cap in force (None: from the settings)


@dataclass
class LiquidityBoard:
    accounts: dict[str, LedgerAccount] = field(default_factory=dict)
    caps: dict[str, Cap] = field(default_factory=dict)
    waiting: dict[str, tuple[str, SettlementRequest]] = field(default_factory=dict)  # sid -> (status, request)
    lsm_runs: deque[LsmRun] = field(default_factory=lambda: deque(maxlen=RECENT))
    actions: deque[OperatorAction] = field(default_factory=lambda: deque(maxlen=RECENT))
    undecodable: int = 0
    _open_run: list[Booked] = field(default_factory=list)

    # --- folding records ---

    def apply_state(self, key: bytes | None, value: bytes | None) -> None:
        """One record of ``settlement.ledger.state`` (a tombstone removes the key)."""
        if key is None:
            return
        k = key.decode(errors="replace")
        try:
            kind = kind_of(k)
        except ValueError:
            self.undecodable += 1
            return
        name = k[len(kind):]
        try:
            item = decode(k, value) if value is not None else None
        except (ValueError, TypeError):
            self.undecodable += 1
            return
        if kind == ACCT:
            if isinstance(item, LedgerAccount):
                self.accounts[name] = item
            else:
                self.accounts.pop(name, None)
        elif kind == CAP:
            if isinstance(item, Cap):
                self.caps[name] = item
            else:
                self.caps.pop(name, None)
        elif kind == SID:
            self._receipt(name, item if isinstance(item, SettlementReceipt) else None)

    def _receipt(self, sid: str, r: SettlementReceipt | None) -> None:
        if r is None or r.status not in ("QUEUED", "RESERVED") or r.request is None:
            self.waiting.pop(sid, None)
            return
        try:
            self.waiting[sid] = (r.status, SettlementRequest.model_validate_json(r.request))
        except ValidationError:
            self.undecodable += 1

    def apply_journal(self, value: bytes | None) -> None:
        """One record of ``settlement.events``."""
        try:
            j = JOURNAL.validate_json(value or b"")
        except ValidationError:
            self.undecodable += 1
            return
        if isinstance(j, Funded):
            self.actions.appendleft(OperatorAction("fund", j.by, j.posting.account, j.posting.amount, j.at))
        elif isinstance(j, CapSet):
            self.actions.appendleft(OperatorAction("cap", j.by, j.participant, j.amount, j.at))
        elif isinstance(j, Booked) and j.lsm_run is not None:
            self._open_run.append(j)
            if j.lsm_last:
                accounts = sorted({p.account for b in self._open_run for p in b.postings})
                self.lsm_runs.appendleft(LsmRun(j.lsm_run, j.lsm_kind or "?", len(self._open_run), j.at,
                                                tuple(accounts)))
                self._open_run = []

    # --- what the page shows ---

    def cap_in_force(self, participant: str, settings_caps: Mapping[str, Decimal]) -> tuple[Decimal | None, str | None]:
        """The cap in force and who set it: an operator's over the settings' (as the ledger decides)."""
        c = self.caps.get(participant)
        if c is not None and c.amount is not None:
            return c.amount, c.by
        return settings_caps.get(participant), None

    def participants(self, settings_caps: Mapping[str, Decimal]) -> list[ParticipantRow]:
        """One row per participant, those with payments waiting (then holding) first."""
        owner = {a.account: a.owner for a in self.accounts.values()}
        queued: Counter[str] = Counter()
        holds: Counter[str] = Counter()
        amounts: dict[str, dict[str, Decimal]] = {}
        for status, req in self.waiting.values():
            debtors = {owner.get(leg.debit_account, leg.debit_account.split("/", 1)[0]) for leg in req.legs}
            for p in debtors:
                (queued if status == "QUEUED" else holds)[p] += 1
            if status == "QUEUED":
                for leg in req.legs:
                    p = owner.get(leg.debit_account, leg.debit_account.split("/", 1)[0])
                    by_ccy = amounts.setdefault(p, {})
                    by_ccy[leg.currency] = by_ccy.get(leg.currency, Decimal(0)) + leg.amount
        by_owner: dict[str, list[LedgerAccount]] = {}
        for a in self.accounts.values():
            by_owner.setdefault(a.owner, []).append(a)
        rows = []
        for p in sorted(by_owner.keys() | set(queued) | set(holds) | set(settings_caps) | set(self.caps)):
            cap, by = self.cap_in_force(p, settings_caps)
            rows.append(ParticipantRow(p, tuple(sorted(by_owner.get(p, []), key=lambda a: a.account)), queued[p],
                                       dict(sorted(amounts.get(p, {}).items())), holds[p], cap, by))
        # Who has payments waiting comes first: that is what an operator opens the page for.
        return sorted(rows, key=lambda r: (-r.queued, -r.holds, r.participant))
