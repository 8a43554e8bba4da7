"""Run the payment path in one process: the ingest and corridor processors, the FX quote
follower, and a small web server (``GET /payments/{uetr}``, ``/healthz``, ``/metrics``)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from router.config import Settings
from router.streams.processor import Fenced, Store, TransactionalProcessor

log = logging.getLogger(__name__)


def web_app(settings: Settings, processors: list[TransactionalProcessor[Store]]) -> Any:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from router.tracker.reader import latest_journey

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


async def run_pipeline(settings: Settings, stages: tuple[str, ...]) -> int:
    import uvicorn

    from router.pipeline.corridor_ports import RouterPorts
    from router.pipeline.corridor_stage import CorridorLogic
    from router.pipeline.ingest_stage import IngestLogic

    ready: dict[str, bool] = {}

    def announce(stage: str) -> Any:
        def on_ready(parts: list[int]) -> None:
            ready[stage] = True
            print(f"{stage} partitions={parts}", flush=True)
            if set(ready) == set(stages):
                # Test harnesses and the demo wait for this line.
                print(f"Ready: stages {','.join(stages)}", flush=True)
        return on_ready

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    processors: list[TransactionalProcessor[Store]] = []
    background: list[asyncio.Task[Any]] = []
    if "ingest" in stages:
        processors.append(TransactionalProcessor(settings, IngestLogic(settings), on_ready=announce("ingest")))
    if "screening" in stages:
        from router.pipeline.screening_stage import ScreeningLogic

        processors.append(TransactionalProcessor(settings, ScreeningLogic(settings), on_ready=announce("screening")))
    if "corridor" in stages:
        ports = RouterPorts.create(settings)
        background.append(asyncio.create_task(ports.follow_quotes()))
        processors.append(TransactionalProcessor(settings, CorridorLogic(ports), on_ready=announce("corridor")))
    server = uvicorn.Server(uvicorn.Config(web_app(settings, processors), host=settings.web.host,
                                           port=settings.web.port, log_level="warning", lifespan="off"))
    background.append(asyncio.create_task(server.serve()))
    runs = [asyncio.create_task(p.run(stop)) for p in processors]
    try:
        done, _ = await asyncio.wait(runs, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            exc = task.exception()
            if isinstance(exc, Fenced):
                log.error("fenced by another worker: %s", exc)
                return 3
            if exc is not None:
                raise exc
        return 0
    finally:
        stop.set()
        server.should_exit = True
        for task in runs:
            if not task.done():
                task.cancel()
        for task in background:
            task.cancel()
        await asyncio.gather(*runs, *background, return_exceptions=True)
