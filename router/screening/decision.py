"""The automatic screening decision for one payment: clear, hold or reject, with its reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from router.outcome import REGULATORY, Reject
from router.screening.model import Match, Outcome, ScreeningRequest
from router.screening.rules import History, RuleHit, evaluate
from router.screening.screener import EMBARGO_LIST, HIGH_RISK_LIST, Screener

STAGE = "screening"


class ScreeningDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    uetr: str
    outcome: Outcome
    # ISO 20022 status reason for a reject (RR04 sanctions, AM02/AM14 wallet limits, RR01-03 R.16).
    reason_code: str | None = None
    reason: str = ""
    matches: tuple[Match, ...] = ()
    rules: tuple[RuleHit, ...] = ()
    list_versions: tuple[dict[str, object], ...] = ()
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def status(self) -> str:
        """pacs.002 transaction status to report to the sender."""
        return {"clear": "ACSP", "hold": "PDNG", "reject": "RJCT"}[self.outcome]

    def reject(self) -> Reject | None:
        if self.outcome != "reject":
            return None
        return Reject(self.reason_code or REGULATORY, self.reason, STAGE)


def _explain(m: Match) -> str:
    if m.list in (EMBARGO_LIST, HIGH_RISK_LIST):
        return f"{m.party} country {m.screened} is {'embargoed' if m.list == EMBARGO_LIST else 'high-risk'}"
    why = f"{m.party} {m.field} {m.screened!r} matches {m.list} entry {m.entry} {m.matched!r} (score {m.score:.2f}"
    if m.name_score is not None and m.name_score != m.score:
        why += f", name alone {m.name_score:.2f}"
    if m.basis != "spelling":
        why += f", {m.basis}"
    if m.short:
        why += ", short name"
    why += ")"
    return why + "".join(f"; {e}" for e in m.evidence)


def screen_payment(req: ScreeningRequest, screener: Screener, history: History, now: datetime) -> ScreeningDecision:
    """Screen every party, agent and country of a payment and apply the rules."""
    matches: list[Match] = []
    for role in ("debtor", "creditor", "ultimate_debtor", "ultimate_creditor"):
        p = getattr(req, role)
        if p is None:
            continue
        matches += screener.screen_name(p.name, party=role, original=p.name_original, subject=p)
        for country in dict.fromkeys(c for c in (p.country, p.residence_country) if c):
            matches += screener.screen_country(country, party=role)
        matches += screener.screen_bic(p.bic, party=role)
    agents = [("debtor_agent", req.debtor_agent), ("creditor_agent", req.creditor_agent)]
    agents += [(f"intermediary_{i + 1}", a) for i, a in enumerate(req.intermediaries)]
    for role, agent in agents:
        matches += screener.screen_bic(agent.bic, party=role)
        country = agent.country or (agent.bic[4:6] if agent.bic and len(agent.bic) >= 6 else None)
        matches += screener.screen_country(country, party=role)
    rules = evaluate(req, history, now, screener.settings)
    list_outcome = screener.outcome_of(matches)
    rule_outcomes = {r.outcome for r in rules}
    if list_outcome == "reject":
        outcome: Outcome = "reject"
        code = REGULATORY
        top = next(m for m in matches if screener.rejects(m))
        reason = _explain(top)
    elif "reject" in rule_outcomes:
        outcome = "reject"
        r = next(r for r in rules if r.outcome == "reject")
        code, reason = r.reason_code, r.text
    elif list_outcome == "hold" or "hold" in rule_outcomes:
        outcome, code = "hold", None
        reason = "; ".join([*(_explain(m) for m in matches[:3]), *(r.text for r in rules)])
    else:
        outcome, code, reason = "clear", None, ""
    return ScreeningDecision(
        uetr=req.uetr, outcome=outcome, reason_code=code, reason=reason, matches=tuple(matches), rules=tuple(rules),
        list_versions=tuple(v.as_dict() for v in screener.versions), decided_at=now,
    )
