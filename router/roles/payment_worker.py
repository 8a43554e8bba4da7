"""``router worker``: the payment path (ingest, screening, corridor stages) in one process, with a
small web server beside it (``GET /payments/{uetr}``, ``/healthz``, ``/metrics``)."""

from __future__ import annotations

from typing import Any

from router import bootstrap
from router.config import Settings
from router.streams.processor import TransactionalProcessor


def web_app(settings: Settings, processors: list[TransactionalProcessor[Any]]) -> Any:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from router.journey_reader import latest_journey

    registry = CollectorRegistry()
    records = Gauge("router_stage_records", "records processed", ["stage"], registry=registry)
    txns = Gauge("router_stage_transactions", "transactions committed", ["stage"], registry=registry)
    tasks = Gauge("router_stage_tasks", "partitions owned", ["stage"], registry=registry)

    async def payment(request: Request) -> JSONResponse:
        uetr = request.path_params["uetr"]
        snap = await latest_journey(settings, uetr)
        if snap is None:
            return JSONResponse({"uetr": uetr, "error": "unknown payment"}, status_code=404)
        return JSONResponse(snap)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({p.logic.name: sorted(p.tasks) for p in processors})

    async def metrics(request: Request) -> Response:
        for p in processors:
            records.labels(p.logic.name).set(p.stats["records"])
            txns.labels(p.logic.name).set(p.stats["transactions"])
            tasks.labels(p.logic.name).set(len(p.tasks))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/payments/{uetr}", payment), Route("/healthz", healthz),
                             Route("/metrics", metrics)])


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
    assembly = bootstrap.assemble(settings, stages, on_ready=on_ready)
    server = uvicorn.Server(uvicorn.Config(web_app(settings, assembly.processors), host=settings.web.host,
                                           port=settings.web.port, log_level="warning", lifespan="off"))
    try:
        return await bootstrap.run(assembly, beside=(server.serve(),))
    finally:
        server.should_exit = True
