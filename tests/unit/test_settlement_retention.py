"""Settlement retention: decided settlements shrink to receipts that answer replays the same way,
MsgId claims and finished ledger entries go only after their retention, balances never."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

import pytest
from pydantic import ValidationError

from router.pipeline.settlement_stage import SettlementLogic
from router.settlement import retention
from router.settlement.check import LedgerView, check
from router.settlement.coordinator import SettlementState, handle
from router.settlement.dedup import ClaimState
from router.settlement.ledger import AccountState, Entry
from router.settlement.model import EVENT, OUTCOME, AccountEvent, Decision, SettlementOutcome, SettlementRequest
from router.settlement.settings import DAY_S, SettlementSettings
from router.settlement.state import ACCT, COORDINATOR_CHANGELOG, ENTRY, MSGID, PartitionState
from router.streams.processor import Out
from router.topics import DAY_MS, replay_horizon_ms
from tests.support.records import FakeRecord
from tests.unit.test_settlement_coordinator import OPENING, POLICY, ev, request

T0 = 1_800_000_000.0
RETENTION_S = 30 * DAY_S  # the default of settings.settlement.retention_days
D = Decimal


def decided(phase: str = "COMMITTED", at: float = T0) -> SettlementState:
    s = handle(None, request(), at, POLICY).state
    assert s is not None
    return s.model_copy(update={"phase": phase, "decision": "ABORT" if phase == "ABORTED" else "COMMIT",
                                "decided_at": at})


def test_only_decided_settlements_are_due_and_only_after_the_retention() -> None:
    done = decided()
    assert not retention.due(done, T0 + RETENTION_S - 1, RETENTION_S)
    assert retention.due(done, T0 + RETENTION_S, RETENTION_S)
    assert retention.due(decided("ABORTED"), T0 + RETENTION_S, RETENTION_S)
    for phase in ("RESERVING", "QUEUED", "COMMITTING"):  # COMMITTING still waits for its bookings
        assert not retention.due(decided(phase), T0 + 10 * RETENTION_S, RETENTION_S), phase
    r = retention.receipt(done, T0 + RETENTION_S)
    assert not retention.due(r, T0 + 10 * RETENTION_S, RETENTION_S)
    raw = r.model_dump_json().encode()
    assert retention.is_receipt(raw) and retention.decode(raw) == r
    assert retention.decode(done.model_dump_json().encode()) == done
    assert len(raw) * 2 < len(done.model_dump_json()), "a receipt is a fraction of the full state"


def test_a_receipt_answers_a_replayed_request_exactly_as_the_full_state() -> None:
    for phase in ("COMMITTED", "ABORTED"):
        full = decided(phase)
        now = T0 + RETENTION_S + 5
        by_state = handle(full, request(), now, POLICY)
        answered, by_receipt = retention.on_event(retention.receipt(full, T0 + RETENTION_S), request(), now)
        assert by_receipt.outcomes == by_state.outcomes and by_receipt.outcomes[0].decision == "DUPLICATE"
        assert by_receipt.commands == by_state.commands == () and by_receipt.decisions == ()
        assert answered.duplicates_answered == 1
        late, step = retention.on_event(answered, ev("RESERVED", "cny"), now)
        assert late is answered and (step.commands, step.outcomes, step.decisions) == ((), (), ())


def entry(status: str, role: str = "debit", at: float | None = T0) -> Entry:
    return Entry.model_validate({"account": "CN1/CNY", "settlement_id": "u1", "leg": "cny", "role": role,
                                 "amount": "1.00", "status": status, "at": at})


def test_only_finished_entries_and_claims_expire() -> None:
    keep, entry_keep = RETENTION_S, 20 * DAY_S
    for status in ("COMMITTED", "CREDITED", "RELEASED", "REJECTED"):
        assert not retention.expired(entry(status), T0 + entry_keep - 1, keep, entry_keep), status
        assert retention.expired(entry(status), T0 + entry_keep, keep, entry_keep), status
    for held in ("RESERVED", "QUEUED"):  # money is held: the entry is the reservation's record
        assert retention.expiry_start(entry(held)) == (False, None)
    assert retention.expiry_start(entry("FUNDED", role="fund")) == (False, None), "fund ids are kept for good"
    assert retention.expiry_start(entry("COMMITTED", at=None)) == (True, None), "unstamped: stamped first"
    claim = ClaimState(sender="CN1", msg_id="M1", settlement_id="u1", at=T0)
    assert not retention.expired(claim, T0 + keep - 1, keep, entry_keep)
    assert retention.expired(claim, T0 + keep, keep, entry_keep)
    acct = AccountState(account="CN1/CNY", owner="CN1", currency="CNY", balance=D("1.00"))
    assert retention.expiry_start(acct) == (False, None), "balances are never removed"


def test_retentions_must_outlive_the_command_topics_replay_horizon() -> None:
    # settlement.commands keeps 7 days, and its segments roll daily (Kafka deletes whole segments).
    assert replay_horizon_ms("settlement.commands") == 8 * DAY_MS
    s = SettlementSettings()
    assert 9 < s.min_retention_days() < 9.01
    for name in ("entry_retention_days", "retention_days"):
        with pytest.raises(ValidationError, match="replay horizon"):
            SettlementSettings.model_validate({name: 8.5})
    with pytest.raises(ValidationError, match="replay horizon"):
        SettlementSettings(pvp_deadline_s=25 * DAY_S)  # the PvP deadline counts too
    assert SettlementSettings(entry_retention_days=9.01).entry_retention_days == 9.01


class Harness:
    """One task of the settlement stage with every topic fed back into it, each record committed
    as its own transaction; the changelogs are kept as Kafka compaction would."""

    def __init__(self, settings: SettlementSettings, state: PartitionState | None = None) -> None:
        self.now = T0
        self.logic = SettlementLogic(settings, clock=lambda: self.now)
        self.state = state or self.logic.new_state(0)
        self.changelog: dict[tuple[str, str], bytes | None] = {}
        self.requests: list[SettlementRequest] = []
        self.events: list[AccountEvent | Decision] = []
        self.outcomes: list[SettlementOutcome] = []
        self.commands = 0

    def run(self, *records: FakeRecord) -> list[Out]:
        queue = deque(records)
        produced: list[Out] = []
        while queue:
            r = queue.popleft()
            if r.topic == "settlement.requests":
                self.requests.append(SettlementRequest.model_validate_json(r.value))
            self._commit(outs := self.logic.process(self.state, r.topic, r))
            produced += outs
            for o in outs:
                assert o.topic != "router.dlq", o
                if o.topic in self.logic.inputs:
                    queue.append(FakeRecord(o.value or b"", o.key or b"", o.topic, headers=list(o.headers)))
        return produced

    def sweep(self, at: float) -> None:
        self.now = at
        self.state.next_sweep = 0.0
        self._commit(self.logic.tick(self.state))

    def _commit(self, outs: list[Out]) -> None:
        for changelog, key, value in self.state.changes():
            self.changelog[(changelog, key)] = value
        self.state.commit()
        for o in outs:
            if o.topic == "settlement.events":
                self.events.append(EVENT.validate_json(o.value or b""))
            elif o.topic == "settlement.outcomes":
                self.outcomes.append(OUTCOME.validate_json(o.value or b""))
            elif o.topic == "settlement.commands":
                self.commands += 1

    def restore(self) -> PartitionState:
        fresh = self.logic.new_state(0)
        for (changelog, key), value in self.changelog.items():
            if value is not None:  # compaction drops tombstones
                fresh.load(changelog, key, value)
        self.logic.restored(fresh)
        return fresh

    def ledger_ok(self) -> None:
        accounts = {k[len(ACCT):]: v for k, v in self.state.accounts.items() if isinstance(v, AccountState)}
        report = check(LedgerView(self.requests, self.events, self.outcomes, accounts), OPENING)
        assert report.ok, report.violations


def req(sid: str, msg_id: str) -> FakeRecord:
    r = request(sid=sid, msg_id=msg_id)
    return FakeRecord(r.model_dump_json().encode(), sid.encode(), "settlement.requests")


def balances(state: PartitionState) -> dict[str, Decimal]:
    return {k: v.balance for k, v in state.accounts.items() if isinstance(v, AccountState)}


def keys(state: PartitionState, prefix: str) -> set[str]:
    return {k for k in state.accounts if k.startswith(prefix)}


def test_the_stage_archives_after_the_retention_and_replays_still_move_no_money() -> None:
    h = Harness(SettlementSettings(opening_balances=OPENING, pvp_deadline_s=30, entry_retention_days=40))
    h.run(req("u1", "M1"))
    h.run(req("u2", "M1"))  # reuses u1's MsgId: aborted as a duplicate
    first = [(o.settlement_id, o.decision, o.reason) for o in h.outcomes]
    assert first == [("u1", "COMMIT", None), ("u2", "ABORT", "AM05")]
    full = dict(h.state.settlements)
    paid, entries = balances(h.state), keys(h.state, ENTRY)
    assert len(entries) == 6 and keys(h.state, MSGID) == {"msgid|CN1|M1"}

    h.sweep(T0 + RETENTION_S - 60)
    assert h.state.settlements == full and keys(h.state, ENTRY) == entries and keys(h.state, MSGID)

    h.sweep(T0 + RETENTION_S + 60)
    assert all(isinstance(s, retention.SettlementReceipt) for s in h.state.settlements.values())
    assert {s.decision for s in h.state.settlements.values()} == {"COMMIT", "ABORT"}
    assert keys(h.state, MSGID) == set(), "the MsgId claim went with the retention"
    assert keys(h.state, ENTRY) == entries, "entries keep their own, longer retention"
    assert h.changelog[(COORDINATOR_CHANGELOG, "u1")] is not None

    commands = h.commands
    dup = h.run(req("u1", "M1"), req("u2", "M1"))
    answers = [OUTCOME.validate_json(o.value or b"") for o in dup if o.topic == "settlement.outcomes"]
    assert [(a.settlement_id, a.decision, a.duplicate_of) for a in answers] == [
        ("u1", "DUPLICATE", "u1"), ("u2", "DUPLICATE", "u2")]
    assert h.commands == commands and balances(h.state) == paid, "a replay moves no money"
    replayed_credit = FakeRecord(b'{"type":"CREDIT","account":"US1/USD","settlement_id":"u1","leg":"foreign",'
                                 b'"currency":"USD","amount":"10.00"}', b"US1/USD", "settlement.commands")
    h.run(replayed_credit)
    assert balances(h.state) == paid, "inside the entry retention a replayed command is a no-op"

    h.sweep(T0 + 40 * DAY_S + 60)
    assert keys(h.state, ENTRY) == set() and balances(h.state) == paid, "balances are never removed"
    h.ledger_ok()


def test_restore_accepts_receipts_and_removed_values() -> None:
    h = Harness(SettlementSettings(opening_balances=OPENING, pvp_deadline_s=30))
    h.run(req("u1", "M1"))
    h.run(FakeRecord(request(sid="u3", msg_id="M3").model_dump_json().encode(), b"u3", "settlement.requests"))
    h.sweep(T0 + RETENTION_S + 60)
    assert None in h.changelog.values(), "removed claims and entries are tombstones on the changelog"
    restored = h.restore()
    assert restored.settlements == h.state.settlements and restored.accounts == h.state.accounts
    assert restored.resting == {} and restored.expiring == {} and restored.open_ids == set()

    h2 = Harness(SettlementSettings(opening_balances=OPENING, pvp_deadline_s=30), restored)
    h2.now = T0 + RETENTION_S + 120
    outs = h2.run(req("u1", "M1"))
    assert [o.topic for o in outs] == ["settlement.outcomes"]
    assert OUTCOME.validate_json(outs[0].value or b"").decision == "DUPLICATE"


def test_values_from_before_retention_get_a_time_then_expire() -> None:
    h = Harness(SettlementSettings(opening_balances=OPENING, pvp_deadline_s=30))
    old_entry = entry("COMMITTED", at=None)
    old_claim = ClaimState(sender="CN1", msg_id="M9", settlement_id="u9")
    h.state.load("settlement.accounts.state", "entry|CN1/CNY|u1|cny|debit", old_entry.model_dump_json().encode())
    h.state.load("settlement.accounts.state", "msgid|CN1|M9", old_claim.model_dump_json().encode())
    h.sweep(T0 + 100 * DAY_S)
    stamped = h.state.accounts["entry|CN1/CNY|u1|cny|debit"]
    assert isinstance(stamped, Entry) and stamped.at == T0 + 100 * DAY_S, "stamped, not removed"
    assert h.state.expiring == {"entry|CN1/CNY|u1|cny|debit": T0 + 100 * DAY_S, "msgid|CN1|M9": T0 + 100 * DAY_S}
    h.sweep(T0 + 130 * DAY_S + 1)
    assert h.state.accounts == {}


def test_a_sweep_archives_a_bounded_batch() -> None:
    h = Harness(SettlementSettings(opening_balances=OPENING, pvp_deadline_s=30, max_archived_per_sweep=1))
    h.run(req("u1", "M1"), req("u4", "M4"))
    h.sweep(T0 + RETENTION_S + 60)
    assert sum(isinstance(s, retention.SettlementReceipt) for s in h.state.settlements.values()) == 1
    h.sweep(T0 + RETENTION_S + 120)
    assert all(isinstance(s, retention.SettlementReceipt) for s in h.state.settlements.values())
