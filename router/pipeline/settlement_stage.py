"""Settlement stage: the PvP coordinator and the account processor, wired to Kafka.

It reads ``settlement.requests``, ``settlement.events`` and ``settlement.commands`` (co-partitioned:
partition p of the three is one task) and keeps, per task, the coordinator states and the accounts
/ entries / MsgId claims hashed to p (``router.settlement.state``, in two compacted changelogs). It
calls the pure ``coordinator.handle``, ``ledger.apply`` and ``dedup.claim`` and sends what they
return in one Kafka transaction with the state changes and the consumed offsets. Deadlines and
liquidity waits are looked at by the processor's timer, which also runs the retention sweep
(``router.settlement.retention``). ``router settle-worker`` runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from router.config import Settings
from router.dlq import dead_letter
from router.outcome import FORMAT_ERROR, Reject
from router.settlement import ledger, retention
from router.settlement.coordinator import Policy, SettlementState, Tick, due, handle
from router.settlement.dedup import ClaimState, claim
from router.settlement.model import (
    COMMAND,
    EVENT,
    REQUEST,
    AccountEvent,
    Claim,
    Decision,
    SettlementOutcome,
    command_key,
)
from router.settlement.settings import DAY_S, SettlementSettings
from router.settlement.state import CHANGELOGS, ENTRY, PartitionState, account_store_key, entry_store_key
from router.streams.processor import Out, Record, TransactionalProcessor

STAGE = "settlement"


class SettlementLogic:
    name: str = STAGE
    inputs: tuple[str, ...] = ("settlement.requests", "settlement.events", "settlement.commands")
    changelogs: tuple[str, ...] = CHANGELOGS
    outputs: tuple[str, ...] = ("settlement.outcomes", "router.dlq")

    def __init__(self, s: SettlementSettings, clock: Callable[[], float] = time.time) -> None:
        self.s = s
        self.clock = clock
        self.policy = Policy(pvp_deadline_s=s.pvp_deadline_s, liquidity_max_wait_s=s.liquidity_max_wait_s,
                             opening_balances=s.opening_balances)
        self.stats = {"settlements": 0}  # decisions committed, over all tasks this worker has had

    def new_state(self, partition: int) -> PartitionState:
        return PartitionState(stats=self.stats)

    def restored(self, state: PartitionState) -> None:
        return None

    def process(self, state: PartitionState, topic: str, r: Record) -> list[Out]:
        outputs: list[Out] = []
        try:
            if topic == "settlement.requests":
                req = REQUEST.validate_json(r.value or b"")
                self._coordinate(state, req.settlement_id, req, outputs)
            elif topic == "settlement.events":
                if _header(r, "type") in (b"DECISION", b"FUNDED"):
                    return outputs  # our own decisions / funding receipts: nothing to coordinate
                ev = EVENT.validate_json(r.value or b"")
                if isinstance(ev, AccountEvent):
                    self._coordinate(state, ev.settlement_id, ev, outputs)
            else:
                self._account(state, COMMAND.validate_json(r.value or b""), outputs)
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            reject = Reject(FORMAT_ERROR, f"undecodable {topic} record: {exc}"[:2000], STAGE)
            key = (r.key or b"").decode("utf-8", "replace").encode()
            outputs.append(dead_letter(reject, r, key=key))
        return outputs

    def tick(self, state: PartitionState) -> list[Out]:
        """Expired deadlines and liquidity waits, looked at once per tick interval; the retention
        sweep once per sweep interval."""
        now = self.clock()
        self._sweep(state, now)
        if now < state.next_scan:
            return []
        state.next_scan = now + self.s.tick_interval_s
        outputs: list[Out] = []
        for sid in [sid for sid in state.open_ids
                    if (o := state.open_settlement(sid)) is not None and (d := due(o)) is not None and d <= now]:
            self._coordinate(state, sid, Tick(), outputs, now)
        return outputs

    def _sweep(self, state: PartitionState, now: float) -> None:
        """Shrink decided settlements to receipts and drop expired claims and finished entries, a
        bounded batch per sweep, staged in the running transaction. The task's indexes follow
        when it commits (an aborted sweep is simply tried again next time)."""
        if now < state.next_sweep:
            return
        state.next_sweep = now + self.s.sweep_interval_s
        retention_s = self.s.retention_days * DAY_S
        entry_retention_s = self.s.entry_retention_days * DAY_S
        budget = self.s.max_archived_per_sweep
        for sid in [sid for sid, since in state.resting.items() if since + retention_s <= now][:budget]:
            current = state.settlement(sid)
            if isinstance(current, SettlementState) and retention.due(current, now, retention_s):
                state.put_settlement(sid, retention.receipt(current, now))
                budget -= 1
        for key in [key for key, since in state.expiring.items()
                    if since is None or since + (entry_retention_s if key.startswith(ENTRY) else retention_s) <= now
                    ][:budget]:
            value = state.account_value(key)
            expires, since = retention.expiry_start(value)
            if expires and since is None and isinstance(value, ledger.Entry | ClaimState):
                # Written before values carried a time: start its retention now, durably.
                state.put_account_value(key, value.model_copy(update={"at": now}))
            elif retention.expired(value, now, retention_s, entry_retention_s):
                state.put_account_value(key, None)

    def _coordinate(self, state: PartitionState, sid: str, event: Any, outputs: list[Out],
                    now: float | None = None) -> None:
        before = state.settlement(sid)
        at = self.clock() if now is None else now
        if isinstance(before, retention.SettlementReceipt):
            answered, step = retention.on_event(before, event, at)
            if answered is not before:
                state.put_settlement(sid, answered)
            outputs.extend(_outcome_output(out) for out in step.outcomes)
            return
        step = handle(before, event, at, self.policy)
        if step.state is not None and step.state is not before:
            state.put_settlement(sid, step.state)
        for cmd in step.commands:
            outputs.append(Out("settlement.commands", command_key(cmd).encode(), cmd.model_dump_json().encode(),
                               (("type", cmd.type.encode()),)))
        for dec in step.decisions:
            outputs.append(_event_output(dec))
        state.staged_decisions += len(step.decisions)
        for out in step.outcomes:
            outputs.append(_outcome_output(out))

    def _account(self, state: PartitionState, cmd: Any, outputs: list[Out]) -> None:
        if isinstance(cmd, Claim):
            key = command_key(cmd)
            current = state.account_value(key)
            new_claim, ev = claim(current if isinstance(current, ClaimState) else None, cmd)
            if new_claim is not current:
                state.put_account_value(key, new_claim.model_copy(update={"at": self.clock()}))
            outputs.append(_event_output(ev))
            return
        akey = account_store_key(cmd.account)
        acct = state.account_value(akey)
        if not isinstance(acct, ledger.AccountState):
            acct = ledger.open_account(
                cmd.account, self.s.opening_balances.get(cmd.account),
                currency=ledger.command_currency(cmd) or cmd.account.rsplit("/", 1)[-1],
                owner=getattr(cmd, "owner", None) or self.s.owner_of(cmd.account))
        ekey = ledger.entry_key(cmd)
        entry = state.account_value(entry_store_key(ekey))
        applied = ledger.apply(acct, entry if isinstance(entry, ledger.Entry) else None, cmd)
        if applied.account is not acct or state.account_value(akey) is None:
            state.put_account_value(akey, applied.account)
        now = self.clock()
        for e in applied.entries:
            state.put_account_value(entry_store_key((e.account, e.settlement_id, e.leg, e.role)),
                                    e.model_copy(update={"at": now}))
        for ev in applied.events:
            outputs.append(_event_output(ev))


def settlement_processor(settings: Settings, *, on_ready: Callable[[list[int]], None] | None = None,
                         logic: SettlementLogic | None = None) -> TransactionalProcessor[PartitionState]:
    """The settlement stage on the transactional processor, tuned by ``settings.settlement``."""
    s = settings.settlement
    return TransactionalProcessor(
        settings, logic or SettlementLogic(s), tick_interval_s=s.tick_interval_s, max_batch=s.max_batch,
        linger_ms=5, transaction_timeout_ms=s.transaction_timeout_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024, on_ready=on_ready)


def _header(r: Record, name: str) -> bytes | None:
    for k, v in r.headers or ():
        if k == name:
            return bytes(v)
    return None


def _event_output(ev: AccountEvent | Decision) -> Out:
    return Out("settlement.events", ev.settlement_id.encode(), ev.model_dump_json().encode(),
               (("type", ev.type.encode()),))


def _outcome_output(out: SettlementOutcome) -> Out:
    return Out("settlement.outcomes", out.uetr.encode(), out.model_dump_json().encode(),
               (("decision", out.decision.encode()),))
