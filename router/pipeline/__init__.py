"""Router stages: thin wiring from topics to the pure functions in the domain packages.

The payment path (``ingest``, ``screening``, ``corridor``) runs on the transactional processor
(``router.streams.processor``): outputs, state and consumed offsets commit together; so does the
settlement stage (``settlement_stage``), which ``router settle-worker`` runs on its own. The FX
pricing service (``fx``) is a faust stage; ``FAUST_STAGES`` maps its name to ``register(wiring)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from router.pipeline import fx_stage

if TYPE_CHECKING:
    from router.app import Wiring

FAUST_STAGES: dict[str, Callable[[Wiring], None]] = {
    "fx": fx_stage.register,
}
TRANSACTIONAL_STAGES: tuple[str, ...] = ("ingest", "screening", "corridor")
STAGES: tuple[str, ...] = (*TRANSACTIONAL_STAGES, *FAUST_STAGES)
# What `router worker` runs unless told otherwise: the payment pipeline. (The settlement core runs
# in `router settle-worker`.)
DEFAULT_STAGES: tuple[str, ...] = TRANSACTIONAL_STAGES
