"""Case workflow records: held cases, analyst decisions and the audit trail, as JSON.

Payload formats (UTF-8 JSON, key = UETR):

- ``screening.cases``: ``Case`` - the held payment, what matched and why, list versions; the
  same case again with ``release_proposal`` set once an analyst proposes to release it (four eyes).
- ``screening.decisions``: ``AnalystDecision`` - release or reject, by whom, why (and, for a
  four-eyes release, who proposed it).
- ``screening.audit``: ``AuditRecord`` - every decision, automatic ("system") or human.

Pure functions build them; wiring code only sends the bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from router.outcome import REGULATORY
from router.screening.decision import ScreeningDecision
from router.screening.model import Match, Outcome, ScreeningRequest
from router.screening.rules import RuleHit

SYSTEM = "system"


class ReleaseProposal(BaseModel):
    """The first analyst's half of a four-eyes release: a second analyst must approve it."""

    model_config = ConfigDict(frozen=True)

    analyst: str
    reason: str = Field(min_length=1, max_length=2000)
    at: datetime


class Case(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    uetr: str
    opened_at: datetime
    reason: str
    matches: tuple[Match, ...] = ()
    rules: tuple[RuleHit, ...] = ()
    list_versions: tuple[dict[str, object], ...] = ()
    request: ScreeningRequest
    release_proposal: ReleaseProposal | None = None

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class AnalystDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    uetr: str
    action: Literal["release", "reject"]
    reason: str = Field(min_length=1, max_length=2000)
    analyst: str
    decided_at: datetime
    # The pacs.002 reason code when the analyst rejects (regulatory).
    reason_code: str | None = None
    list_versions: tuple[dict[str, object], ...] = ()
    # A four-eyes release: the analyst who proposed it (``analyst`` approved it) and why.
    proposed_by: str | None = None
    proposal_reason: str | None = None

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class AuditRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    uetr: str
    at: datetime
    actor: str  # "system" or the analyst's user name
    kind: Literal["automatic", "human"]
    outcome: Outcome | Literal["release", "release-proposed"]
    rules: tuple[str, ...] = ()  # e.g. "sanctions:OFAC-SDN", "country:embargoed", "fatf-r16", "analyst"
    reason_code: str | None = None
    reason: str = ""
    list_versions: tuple[dict[str, object], ...] = ()
    case_id: str | None = None
    proposed_by: str | None = None  # on an approved four-eyes release: the first analyst

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def case_for(decision: ScreeningDecision, request: ScreeningRequest) -> Case:
    """The case record of a held payment (one case per UETR)."""
    return Case(case_id=f"case-{decision.uetr}", uetr=decision.uetr, opened_at=decision.decided_at,
                reason=decision.reason, matches=decision.matches, rules=decision.rules,
                list_versions=decision.list_versions, request=request)


def _rule_names(matches: tuple[Match, ...], rules: tuple[RuleHit, ...]) -> tuple[str, ...]:
    names = [f"{m.field}:{m.list}" for m in matches] + [r.rule for r in rules]
    return tuple(dict.fromkeys(names))


def audit_for(decision: ScreeningDecision) -> AuditRecord:
    return AuditRecord(uetr=decision.uetr, at=decision.decided_at, actor=SYSTEM, kind="automatic",
                       outcome=decision.outcome, rules=_rule_names(decision.matches, decision.rules),
                       reason_code=decision.reason_code, reason=decision.reason,
                       list_versions=decision.list_versions,
                       case_id=f"case-{decision.uetr}" if decision.outcome == "hold" else None)


def analyst_decision(case: Case, action: Literal["release", "reject"], reason: str, analyst: str,
                     now: datetime | None = None) -> AnalystDecision:
    proposal = case.release_proposal if action == "release" else None
    return AnalystDecision(case_id=case.case_id, uetr=case.uetr, action=action, reason=reason.strip(),
                           analyst=analyst, decided_at=now or datetime.now(UTC),
                           reason_code=REGULATORY if action == "reject" else None,
                           list_versions=case.list_versions,
                           proposed_by=proposal.analyst if proposal else None,
                           proposal_reason=proposal.reason if proposal else None)


def audit_for_proposal(case: Case) -> AuditRecord:
    """The audit record of the first half of a four-eyes release."""
    if case.release_proposal is None:
        raise ValueError(f"case {case.case_id} has no release proposal")
    p = case.release_proposal
    return AuditRecord(uetr=case.uetr, at=p.at, actor=p.analyst, kind="human", outcome="release-proposed",
                       rules=("analyst-review",), reason=p.reason, list_versions=case.list_versions,
                       case_id=case.case_id)


def audit_for_analyst(d: AnalystDecision) -> AuditRecord:
    return AuditRecord(uetr=d.uetr, at=d.decided_at, actor=d.analyst, kind="human", outcome=d.action,
                       rules=("analyst-review",), reason_code=d.reason_code, reason=d.reason,
                       list_versions=d.list_versions, case_id=d.case_id, proposed_by=d.proposed_by)
