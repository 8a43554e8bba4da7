"""``router worker``: the payment path (the corridor with intake, and screening) in one process,
with a small web server beside it: ``GET /payments/{uetr}`` and the operations endpoints every
worker serves (``/healthz``: 503 until every stage has restored its state, ``/livez``,
``/metrics``; ``router.ops_web``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from router import bootstrap, heap
from router.config import Settings
from router.metrics import RouterMetrics
from router.streams.processor import TransactionalProcessor


def web_app(settings: Settings, processors: list[TransactionalProcessor[Any]], joined: Collection[str],
            metrics: RouterMetrics | None = None, scrape: Any = None) -> Any:
    """``joined``: the stages whose consumers have had their partitions assigned (kept up to date
    by the caller). ``metrics`` and ``scrape``: the instruments the stages were assembled with and
    what a scrape reads (``Assembly.scrape``); without them only the stage totals are exported."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from router.journey_reader import latest_journey
    from router.metrics import StageStatsSync
    from router.ops_web import ops_app, processor_health

    async def payment(request: Request) -> JSONResponse:
        uetr = request.path_params["uetr"]
        snap = await latest_journey(settings, uetr)
        if snap is None:
            return JSONResponse({"uetr": uetr, "error": "unknown payment"}, status_code=404)
        return JSONResponse(snap)

    if metrics is None:
        metrics = RouterMetrics()
    if scrape is None:
        sync = StageStatsSync(metrics)

        def scrape() -> None:
            for p in processors:
                sync(p.logic.name, p.stats, len(p.tasks))

    return ops_app(lambda: [processor_health(p, joined=p.logic.name in joined) for p in processors],
                   metrics.registry, refresh=scrape, routes=[Route("/payments/{uetr}", payment)])


async def run(settings: Settings, stages: tuple[str, ...] = bootstrap.PAYMENT_STAGES) -> int:
    """Run ``stages`` until SIGTERM / SIGINT; prints ``Ready: stages ...`` once every stage owns its
    partitions (test harnesses and the demo wait for that line)."""
    import uvicorn

    ready: set[str] = set()

    def on_ready(stage: str, parts: list[int]) -> None:
        ready.add(stage)
        print(f"{stage} partitions={parts}", flush=True)
        if ready == set(stages):
            print(f"Ready: stages {','.join(stages)}", flush=True)

    await bootstrap.preflight(settings, stages)
    metrics = RouterMetrics()
    assembly = bootstrap.assemble(settings, stages, on_ready=on_ready, metrics=metrics)
    app = web_app(settings, assembly.processors, ready, metrics, assembly.scrape)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.web.host,
                                           port=settings.web.port, log_level="warning", lifespan="off"))
    try:
        heap.settle(settings.gc_gen0_threshold)
        return await bootstrap.run(assembly, beside=(server.serve(),))
    finally:
        server.should_exit = True
