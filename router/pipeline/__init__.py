"""Faust stages: thin wiring from topics to the pure functions in the domain packages.

Each stage module exposes ``register(wiring)``; ``STAGES`` names them for ``build_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from router.pipeline import corridor_stage, fx_stage, ingest_stage

if TYPE_CHECKING:
    from router.app import Wiring

STAGES: dict[str, Callable[[Wiring], None]] = {
    "ingest": ingest_stage.register,
    "fx": fx_stage.register,
    "corridor": corridor_stage.register,
}

# What `router worker` runs unless told otherwise: the payment pipeline. (The settlement core runs
# in `router settle-worker`, plain aiokafka with Kafka transactions.)
DEFAULT_STAGES: tuple[str, ...] = ("ingest", "corridor")
