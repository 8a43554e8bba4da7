"""``router settle-worker``: the PvP settlement core (coordinator and account processors)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any

from router import bootstrap, heap
from router.config import Settings
from router.pipeline.settlement_stage import SettlementLogic


async def run(settings: Settings, instance: str = "", web_port: int | None = None) -> int:
    """Run the settlement stage until SIGTERM / SIGINT; prints ``settlement worker ready ...`` once
    it owns its partitions (test harnesses, the demo and the benchmark wait for that line) and its
    counters when it stops. With ``web_port`` it serves /healthz (503 until every assigned
    partition is restored), /livez and /metrics. Raises ``TopologyError`` when its topics are missing."""
    await bootstrap.preflight(settings, bootstrap.SETTLEMENT_STAGES)
    logic = SettlementLogic(settings.settlement)
    joined = {"settlement": False}

    def ready(stage: str, parts: list[int]) -> None:
        joined[stage] = True
        print(f"settlement worker ready partitions={parts} instance={instance}", flush=True)

    metrics = None
    if web_port is not None:
        from router.metrics import RouterMetrics

        metrics = RouterMetrics()
    assembly = bootstrap.assemble(settings, bootstrap.SETTLEMENT_STAGES, on_ready=ready, settlement_logic=logic,
                                  metrics=metrics)
    stop = asyncio.Event()
    beside: tuple[Coroutine[Any, Any, Any], ...] = ()
    if metrics is not None and web_port is not None and assembly.scrape is not None:
        from router.ops_web import ops_app, processor_health, serve

        proc = assembly.processors[0]
        app = ops_app(lambda: [processor_health(proc, joined=joined["settlement"])], metrics.registry,
                      refresh=assembly.scrape)
        beside = (serve(app, settings.web.host, web_port, stop),)
    heap.settle(settings.gc_gen0_threshold)
    code = await bootstrap.run(assembly, beside=beside, stop=stop)
    if code == 3:
        print("router: fenced by a newer owner, stopping", file=sys.stderr)
        return code
    stats = {**assembly.processors[0].stats, **logic.stats}
    print(f"settlement worker stopped {json.dumps(stats)}", flush=True)
    return code
