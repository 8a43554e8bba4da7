"""A condition event meets its programmable payment: authenticate, match, and ask the ledger to execute.

The corridor refuses (to the DLQ, with the reason) an event that is forged (no key for its
party, a bad signature, or a party that is not the condition's releasing party), replayed (an
event id this payment has already used, or any event after the condition was met), late (met
or arrived after the expiry, or after the hold ended) or that names another condition. An
authentic event in time is recorded on the payment (its id, so a replay is caught) and sent on
to the ledger as an EXECUTE. The ledger has the last word: if its hold has expired by the time
the EXECUTE arrives, the expiry wins and the payment is rejected TM01.

An event that arrives while the reservation is still being made is kept and executed as soon
as the ledger confirms the hold.
"""

from __future__ import annotations

from datetime import datetime

from router.corridor import conditions
from router.corridor.lifecycle import CorridorStep, execute_send, hop, status_send
from router.corridor.ports import Ports
from router.corridor.state import PaymentState, Phase, updated
from router.outcome import DUPLICATE, NARRATIVE, Reject
from router.tracker.journey import Stage


def _refuse(state: PaymentState | None, text: str, code: str = NARRATIVE) -> CorridorStep:
    return CorridorStep(state, reject=Reject(code, text, conditions.STAGE))


def on_condition_event(state: PaymentState | None, raw: bytes, ports: Ports, now: datetime) -> CorridorStep:
    verified = conditions.verify(raw, ports.settings.corridor.condition_keys)
    if isinstance(verified, Reject):
        return CorridorStep(state, reject=verified)
    ev = verified.value
    if state is None:
        return _refuse(None, f"{conditions.MISMATCH}: no payment {ev.uetr} for condition {ev.condition_id}")
    cond = state.payment.condition
    if cond is None or ev.uetr != state.uetr:
        return _refuse(state, f"{conditions.MISMATCH}: payment {state.uetr} carries no condition {ev.condition_id}")
    if ev.event_id in state.condition_events:
        return _refuse(state, f"{conditions.REPLAYED}: event {ev.event_id} was already used", DUPLICATE)
    if ev.party != cond.releasing_party:
        return _refuse(state, f"{conditions.FORGED}: {ev.party} may not release condition {cond.id} "
                              f"(its releasing party is {cond.releasing_party})")
    if ev.condition_id != cond.id:
        return _refuse(state, f"{conditions.MISMATCH}: payment {state.uetr} waits for condition {cond.id}, "
                              f"not {ev.condition_id}")
    if state.condition_state in ("releasing", "met"):
        return _refuse(state, f"{conditions.REPLAYED}: condition {cond.id} was already met by event "
                              f"{state.condition_events[-1] if state.condition_events else '?'}", DUPLICATE)
    if state.condition_state not in ("reserving", "held"):
        return _refuse(state, f"{conditions.LATE}: condition {cond.id} has ended "
                              f"({state.condition_state or state.phase.value})")
    late = conditions.event_at_fits(ev, cond.expiry, now)
    if late is not None:
        return _refuse(state, late)
    s = hop(state, Stage.CONDITION_MET, now, by=ev.party, event_id=ev.event_id, condition_id=cond.id,
            met_at=ev.at.isoformat())
    s = updated(s, condition_state="releasing", condition_events=(*state.condition_events, ev.event_id))
    sends = [execute_send(s)] if state.phase is Phase.CONDITIONAL else []  # else: once the hold is confirmed
    return CorridorStep(s, (*sends, status_send(s)))

