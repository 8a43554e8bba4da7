"""An analyst's action on a held case, with four eyes on releases.

Releasing a payment that hit a sanctions list takes two analysts: one proposes the release, a
different one approves it; only the approval becomes a release decision on
``screening.decisions``. A reject stops money moving, so one analyst may reject at any time
(a proposal included). With policy ``all``, rule-only holds (velocity, FATF R16) need two
analysts as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from router.screening.cases import AnalystDecision, Case, ReleaseProposal, analyst_decision

Action = Literal["release", "approve", "reject"]
Policy = Literal["sanctions", "all"]
ACTIONS: tuple[Action, ...] = ("release", "approve", "reject")


@dataclass(frozen=True, slots=True)
class Propose:
    """The case again, now carrying the release proposal (published on ``screening.cases``)."""

    case: Case


@dataclass(frozen=True, slots=True)
class Decide:
    decision: AnalystDecision


@dataclass(frozen=True, slots=True)
class Refuse:
    # forbidden: this analyst may not do it; conflict: the case's state does not allow it.
    kind: Literal["forbidden", "conflict"]
    text: str


def needs_second_analyst(case: Case, policy: Policy) -> bool:
    return policy == "all" or bool(case.matches)


def review(case: Case, action: Action, reason: str, analyst: str, policy: Policy,
           now: datetime) -> Propose | Decide | Refuse:
    """What ``analyst`` doing ``action`` on the open ``case`` leads to. ``reason`` is non-empty."""
    proposal = case.release_proposal
    if action == "reject":
        return Decide(analyst_decision(case, "reject", reason, analyst, now))
    if action == "release":
        if proposal is not None:
            return Refuse("conflict", f"{proposal.analyst} already proposed releasing this payment; "
                                      "another analyst approves or rejects it.")
        if not needs_second_analyst(case, policy):
            return Decide(analyst_decision(case, "release", reason, analyst, now))
        proposed = case.model_copy(update={"release_proposal": ReleaseProposal(analyst=analyst, reason=reason,
                                                                               at=now)})
        return Propose(proposed)
    if proposal is None:
        return Refuse("conflict", "Nobody has proposed releasing this payment.")
    if proposal.analyst == analyst:
        return Refuse("forbidden", "Four eyes: you proposed this release, so another analyst must approve it.")
    return Decide(analyst_decision(case, "release", reason, analyst, now))
