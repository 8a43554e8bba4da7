"""``router settle-worker``: the PvP settlement core (coordinator and account processors)."""

from __future__ import annotations

import json
import sys

from router import bootstrap
from router.config import Settings
from router.pipeline.settlement_stage import SettlementLogic


async def run(settings: Settings, instance: str = "") -> int:
    """Run the settlement stage until SIGTERM / SIGINT; prints ``settlement worker ready ...`` once
    it owns its partitions (test harnesses, the demo and the benchmark wait for that line) and its
    counters when it stops. Raises ``TopologyError`` when its topics are missing."""
    await bootstrap.preflight(settings, bootstrap.SETTLEMENT_STAGES)
    logic = SettlementLogic(settings.settlement)

    def ready(stage: str, parts: list[int]) -> None:
        print(f"settlement worker ready partitions={parts} instance={instance}", flush=True)

    assembly = bootstrap.assemble(settings, bootstrap.SETTLEMENT_STAGES, on_ready=ready, settlement_logic=logic)
    code = await bootstrap.run(assembly)
    if code == 3:
        print("router: fenced by a newer owner, stopping", file=sys.stderr)
        return code
    stats = {**assembly.processors[0].stats, **logic.stats}
    print(f"settlement worker stopped {json.dumps(stats)}", flush=True)
    return code
