"""The operations endpoints of a worker process: ``/healthz`` (readiness: 503 until every stage has
restored its state), ``/livez`` and ``/metrics``. Kubernetes probes and Prometheus read these.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from router.health import StageHealth, readiness

if TYPE_CHECKING:
    from router.streams.processor import TransactionalProcessor


def processor_health(proc: TransactionalProcessor[Any], *, joined: bool) -> StageHealth:
    """A transactional processor's state as readiness sees it.

    Partitions wait in ``pending`` until the processor takes them up, then are restored before
    they join ``tasks``; both count as restoring.
    """
    consumer = proc.consumer
    assigned = {tp.partition for tp in consumer.assignment()} if consumer is not None else set()
    restoring = (set(proc.pending) | assigned) - set(proc.tasks)
    return StageHealth(proc.logic.name, joined, frozenset(proc.tasks), frozenset(restoring))


def ops_app(health: Callable[[], Sequence[StageHealth]], registry: CollectorRegistry,
            refresh: Callable[[], Awaitable[None] | None] = lambda: None, routes: Sequence[Any] = ()) -> Any:
    """The operations endpoints, plus the role's own ``routes`` (starlette ``Route``s). ``refresh``
    (sync or async) brings the state gauges up to date before each scrape."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def healthz(request: Request) -> JSONResponse:
        status, body = readiness(health())
        return JSONResponse(body, status_code=status)

    async def livez(request: Request) -> JSONResponse:
        return JSONResponse({"alive": True})

    async def metrics(request: Request) -> Response:
        pending = refresh()
        if inspect.isawaitable(pending):
            await pending
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/livez", livez), Route("/metrics", metrics),
                             *routes])


async def serve(app: Any, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve ``app`` until ``stop`` is set."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
