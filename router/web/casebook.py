"""The open cases an analyst can see, rebuilt from ``screening.cases`` and ``screening.decisions``.

Pure state: the Kafka feed calls ``apply_case`` / ``apply_decision`` with the record values.
Cases and decisions arrive on different topics, so a decision may be read before its case;
decided UETRs are remembered so that a late case does not reappear.
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
            self._open[case.uetr] = case
        return case

    def apply_decision(self, raw: bytes) -> AnalystDecision | None:
        try:
            d = AnalystDecision.model_validate_json(raw)
        except ValidationError as exc:
            self.rejected_records += 1
            log.warning("ignoring malformed decision record: %s", exc.errors()[:1])
            return None
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
