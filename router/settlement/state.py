"""One partition's settlement state: the maps the processor keeps, staged per transaction.

A task (partition p of settlement.requests, settlement.events and settlement.commands) owns
the coordinator states of the settlements hashed to p and the accounts / MsgId claims hashed
to p. Changes made while processing a batch are staged; they become the task's state only
after the Kafka transaction that carries them to the changelog has committed, so an aborted
transaction leaves memory exactly as the changelog has it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from router.settlement.coordinator import SettlementState, due
from router.settlement.dedup import ClaimState
from router.settlement.ledger import AccountState, Entry, EntryKey

ACCT = "acct|"
ENTRY = "entry|"
MSGID = "msgid|"


def entry_store_key(key: EntryKey) -> str:
    account, sid, leg, role = key
    return f"{ENTRY}{account}|{sid}|{leg}|{role}"


def account_store_key(account: str) -> str:
    return f"{ACCT}{account}"


AccountValue = AccountState | Entry | ClaimState


@dataclass
class PartitionState:
    settlements: dict[str, SettlementState] = field(default_factory=dict)
    accounts: dict[str, AccountValue] = field(default_factory=dict)  # changelog key -> value
    open_ids: set[str] = field(default_factory=set)  # settlements that still wait for a timer

    def restore_settlement(self, key: str, value: SettlementState | None) -> None:
        if value is None:
            self.settlements.pop(key, None)
            self.open_ids.discard(key)
            return
        self.settlements[key] = value
        if due(value) is None:
            self.open_ids.discard(key)
        else:
            self.open_ids.add(key)

    def restore_account(self, key: str, value: AccountValue | None) -> None:
        if value is None:
            self.accounts.pop(key, None)
        else:
            self.accounts[key] = value


@dataclass
class Staged:
    """A transaction's view: reads fall through to the committed state, writes stay here."""

    base: PartitionState
    settlements: dict[str, SettlementState] = field(default_factory=dict)
    accounts: dict[str, AccountValue] = field(default_factory=dict)

    def settlement(self, sid: str) -> SettlementState | None:
        got = self.settlements.get(sid)
        return got if got is not None else self.base.settlements.get(sid)

    def put_settlement(self, sid: str, state: SettlementState) -> None:
        self.settlements[sid] = state

    def account_value(self, key: str) -> AccountValue | None:
        got = self.accounts.get(key)
        return got if got is not None else self.base.accounts.get(key)

    def put_account_value(self, key: str, value: AccountValue) -> None:
        self.accounts[key] = value

    def changes(self) -> Iterator[tuple[str, str, bytes]]:
        """(changelog, key, JSON value) for every staged change."""
        for sid, s in self.settlements.items():
            yield "settlement.coordinator.state", sid, s.model_dump_json().encode()
        for key, v in self.accounts.items():
            yield "settlement.accounts.state", key, v.model_dump_json().encode()

    def commit(self) -> None:
        for sid, s in self.settlements.items():
            self.base.restore_settlement(sid, s)
        self.base.accounts.update(self.accounts)
        self.settlements.clear()
        self.accounts.clear()
