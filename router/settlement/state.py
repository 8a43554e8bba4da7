"""One partition's settlement state, as the transactional processor keeps it for a task.

A task (partition p of settlement.requests, settlement.events and settlement.commands) owns
the coordinator states of the settlements hashed to p and the accounts / MsgId claims hashed
to p, each in partition p of its compacted changelog. Changes made while processing a batch are
staged; they become the task's state only after the Kafka transaction that carries them to the
changelog has committed, so an aborted transaction leaves memory exactly as the changelog has it.
Values are kept decoded: the settlement logic reads them far more often than they change.
Decided settlements may be receipts and finished entries / old claims may be gone
(``router.settlement.retention``); the task indexes what the retention sweep will look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router.settlement import retention
from router.settlement.coordinator import SettlementState, due
from router.settlement.dedup import ClaimState
from router.settlement.ledger import AccountState, Entry, EntryKey
from router.settlement.retention import Coordinated

ACCT = "acct|"
ENTRY = "entry|"
MSGID = "msgid|"
COORDINATOR_CHANGELOG = "settlement.coordinator.state"
ACCOUNTS_CHANGELOG = "settlement.accounts.state"
CHANGELOGS = (COORDINATOR_CHANGELOG, ACCOUNTS_CHANGELOG)


def entry_store_key(key: EntryKey) -> str:
    account, sid, leg, role = key
    return f"{ENTRY}{account}|{sid}|{leg}|{role}"


def account_store_key(account: str) -> str:
    return f"{ACCT}{account}"


AccountValue = AccountState | Entry | ClaimState


def decode_account_value(key: str, raw: bytes) -> AccountValue:
    if key.startswith(ACCT):
        return AccountState.model_validate_json(raw)
    if key.startswith(ENTRY):
        return Entry.model_validate_json(raw)
    if key.startswith(MSGID):
        return ClaimState.model_validate_json(raw)
    raise ValueError(f"unknown account changelog key {key!r}")


@dataclass
class PartitionState:
    """Committed maps plus the running transaction's staged writes (reads fall through)."""

    settlements: dict[str, Coordinated] = field(default_factory=dict)
    accounts: dict[str, AccountValue] = field(default_factory=dict)  # changelog key -> value
    open_ids: set[str] = field(default_factory=set)  # settlements that still wait for a timer
    resting: dict[str, float] = field(default_factory=dict)  # decided settlement -> decided at
    expiring: dict[str, float | None] = field(default_factory=dict)  # claim / finished entry -> since
    staged_settlements: dict[str, Coordinated] = field(default_factory=dict)
    staged_accounts: dict[str, AccountValue | None] = field(default_factory=dict)  # None: removed
    staged_decisions: int = 0
    stats: dict[str, int] = field(default_factory=dict)  # the worker's: committed "settlements" added here
    next_scan: float = 0.0  # when the timers are next looked at
    next_sweep: float = 0.0  # when the retention sweep next runs

    # --- the transaction's view ---

    def settlement(self, sid: str) -> Coordinated | None:
        got = self.staged_settlements.get(sid)
        return got if got is not None else self.settlements.get(sid)

    def put_settlement(self, sid: str, state: Coordinated) -> None:
        self.staged_settlements[sid] = state

    def account_value(self, key: str) -> AccountValue | None:
        if key in self.staged_accounts:
            return self.staged_accounts[key]
        return self.accounts.get(key)

    def put_account_value(self, key: str, value: AccountValue | None) -> None:
        self.staged_accounts[key] = value

    # --- router.streams.processor.State ---

    def load(self, changelog: str, key: str, value: bytes) -> None:
        if changelog == COORDINATOR_CHANGELOG:
            self._set_settlement(key, retention.decode(value))
        else:
            self._set_account(key, decode_account_value(key, value))

    def changes(self) -> list[tuple[str, str, bytes | None]]:
        out: list[tuple[str, str, bytes | None]] = [
            (COORDINATOR_CHANGELOG, sid, s.model_dump_json().encode()) for sid, s in self.staged_settlements.items()]
        out += [(ACCOUNTS_CHANGELOG, key, None if v is None else v.model_dump_json().encode())
                for key, v in self.staged_accounts.items()]
        return out

    def commit(self) -> None:
        for sid, s in self.staged_settlements.items():
            self._set_settlement(sid, s)
        for key, v in self.staged_accounts.items():
            self._set_account(key, v)
        if self.staged_decisions:
            self.stats["settlements"] = self.stats.get("settlements", 0) + self.staged_decisions
        self.rollback()

    def rollback(self) -> None:
        self.staged_settlements.clear()
        self.staged_accounts.clear()
        self.staged_decisions = 0

    def __len__(self) -> int:
        return len(self.settlements) + len(self.accounts)

    def open_settlement(self, sid: str) -> SettlementState | None:
        got = self.settlements.get(sid)
        return got if isinstance(got, SettlementState) else None

    def _set_settlement(self, sid: str, value: Coordinated) -> None:
        self.settlements[sid] = value
        if isinstance(value, SettlementState) and due(value) is not None:
            self.open_ids.add(sid)
        else:
            self.open_ids.discard(sid)
        since = retention.at_rest_since(value)
        if since is None:
            self.resting.pop(sid, None)
        else:
            self.resting[sid] = since

    def _set_account(self, key: str, value: AccountValue | None) -> None:
        if value is None:
            self.accounts.pop(key, None)
            self.expiring.pop(key, None)
            return
        self.accounts[key] = value
        expires, since = retention.expiry_start(value)
        if expires:
            self.expiring[key] = since
        else:
            self.expiring.pop(key, None)
