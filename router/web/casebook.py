"""The open cases an analyst can see, rebuilt from ``screening.cases`` and ``screening.decisions``.

Pure state: the Kafka feed calls ``apply_case`` / ``apply_decision`` with the record values.
Cases and decisions arrive on different topics, so a decision may be read before its case;
decided UETRs are remembered so that a late case does not reappear. A case proposed for release
(four eyes) comes again on ``screening.cases`` with its proposal; a copy of the case without
one (a redelivery) does not erase the proposal.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from router.screening.cases import AnalystDecision, Case

log = logging.getLogger(__name__)


class CaseBook:
    def __init__(self) -> None:
        self._open: dict[str, Case] = {}
        self._decided: dict[str, AnalystDecision | None] = {}
        self.rejected_records = 0

    def apply_case(self, raw: bytes) -> Case | None:
        try:
            case = Case.model_validate_json(raw)
        except ValidationError as exc:
            self.rejected_records += 1
            log.warning("ignoring malformed case record: %s", exc.errors()[:1])
            return None
        if case.uetr not in self._decided:
            known = self._open.get(case.uetr)
            if known is None or known.release_proposal is None or case.release_proposal is not None:
                self._open[case.uetr] = case
        return case

    def propose(self, case: Case) -> None:
        """Record a release proposal made here (the feed brings the same record back later)."""
        if case.uetr in self._open:
            self._open[case.uetr] = case

    def apply_decision(self, raw: bytes) -> AnalystDecision | None:
        try:
            d = AnalystDecision.model_validate_json(raw)
        except ValidationError as exc:
            self.rejected_records += 1
            log.warning("ignoring malformed decision record: %s", exc.errors()[:1])
            return None
        if d.uetr in self._decided:  # the first decision on the topic is the one that counts
            return d
        self.close(d.uetr, d)
        return d

    def close(self, uetr: str, decision: AnalystDecision | None = None) -> None:
        self._open.pop(uetr, None)
        self._decided[uetr] = decision

    def get(self, uetr: str) -> Case | None:
        return self._open.get(uetr)

    def decided(self, uetr: str) -> AnalystDecision | None:
        return self._decided.get(uetr)

    def open_cases(self) -> list[Case]:
        return sorted(self._open.values(), key=lambda c: c.opened_at)

    def __len__(self) -> int:
        return len(self._open)
