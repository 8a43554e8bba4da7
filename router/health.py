"""Readiness: a process is ready only once every stage it runs has joined its consumer group and
restored the state of every partition it was given.

Kubernetes' readiness probe reads ``/healthz``: a pod that answers 503 is left out of rollouts'
"available" count, so a rolling update (and the PodDisruptionBudget) waits for each new pod to
finish its restore before it takes the next old one down. Liveness is a separate, weaker check
(the web port answers): a long restore must not get a pod killed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StageHealth:
    stage: str
    joined: bool  # the group has given this process its assignment (possibly empty) at least once
    owned: frozenset[int]  # partitions restored and processing
    restoring: frozenset[int]  # partitions assigned whose state is still being restored


def readiness(stages: Sequence[StageHealth]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for ``/healthz``: 200 when every stage is joined and restored, else 503."""
    body: dict[str, Any] = {
        s.stage: {"joined": s.joined, "partitions": sorted(s.owned), "restoring": sorted(s.restoring)}
        for s in stages
    }
    ready = bool(stages) and all(s.joined and not s.restoring for s in stages)
    body["ready"] = ready
    return (200 if ready else 503), body
