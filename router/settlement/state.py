"""One partition's settlement state, as the transactional processor keeps it for a task.

A task (partition p of settlement.requests, settlement.events and settlement.commands) owns
the coordinator states of the settlements hashed to p and the accounts / MsgId claims hashed
to p, each in partition p of its compacted changelog. Changes made while processing a batch are
staged; they become the task's state only after the Kafka transaction that carries them to the
changelog has committed, so an aborted transaction leaves memory exactly as the changelog has it.
Values are kept decoded: the settlement logic reads them far more often than they change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router.settlement.coordinator import SettlementState, due
from router.settlement.dedup import ClaimState
from router.settlement.ledger import AccountState, Entry, EntryKey

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

    settlements: dict[str, SettlementState] = field(default_factory=dict)
    accounts: dict[str, AccountValue] = field(default_factory=dict)  # changelog key -> value
    open_ids: set[str] = field(default_factory=set)  # settlements that still wait for a timer
    staged_settlements: dict[str, SettlementState] = field(default_factory=dict)
    staged_accounts: dict[str, AccountValue] = field(default_factory=dict)
    staged_decisions: int = 0
    stats: dict[str, int] = field(default_factory=dict)  # the worker's: committed "settlements" added here
    next_scan: float = 0.0  # when the timers are next looked at

    # --- the transaction's view ---

    def settlement(self, sid: str) -> SettlementState | None:
        got = self.staged_settlements.get(sid)
        return got if got is not None else self.settlements.get(sid)

    def put_settlement(self, sid: str, state: SettlementState) -> None:
        self.staged_settlements[sid] = state

    def account_value(self, key: str) -> AccountValue | None:
        got = self.staged_accounts.get(key)
        return got if got is not None else self.accounts.get(key)

    def put_account_value(self, key: str, value: AccountValue) -> None:
        self.staged_accounts[key] = value

    # --- router.streams.processor.State ---

    def load(self, changelog: str, key: str, value: bytes) -> None:
        if changelog == COORDINATOR_CHANGELOG:
            self._set_settlement(key, SettlementState.model_validate_json(value))
        else:
            self.accounts[key] = decode_account_value(key, value)

    def changes(self) -> list[tuple[str, str, bytes | None]]:
        out: list[tuple[str, str, bytes | None]] = [
            (COORDINATOR_CHANGELOG, sid, s.model_dump_json().encode()) for sid, s in self.staged_settlements.items()]
        out += [(ACCOUNTS_CHANGELOG, key, v.model_dump_json().encode()) for key, v in self.staged_accounts.items()]
        return out

    def commit(self) -> None:
        for sid, s in self.staged_settlements.items():
            self._set_settlement(sid, s)
        self.accounts.update(self.staged_accounts)
        if self.staged_decisions:
            self.stats["settlements"] = self.stats.get("settlements", 0) + self.staged_decisions
        self.rollback()

    def rollback(self) -> None:
        self.staged_settlements.clear()
        self.staged_accounts.clear()
        self.staged_decisions = 0

    def __len__(self) -> int:
        return len(self.settlements) + len(self.accounts)

    def _set_settlement(self, sid: str, value: SettlementState) -> None:
        self.settlements[sid] = value
        if due(value) is None:
            self.open_ids.discard(sid)
        else:
            self.open_ids.add(sid)
