"""The one bootstrap: every stage the router runs is assembled here from settings.

A role (``router worker``, ``router settle-worker``) is a set of stages; each stage is a
``TransactionalProcessor`` over that stage's logic. ``assemble`` builds them from settings and
``run`` runs them until SIGTERM / SIGINT or until one fails. Tests hand ``assemble`` their own
settings and fakes (the corridor's ports, the settlement logic) in place of the real ones. Each
role's entry point is its own module under ``router.roles``; the CLI only parses arguments.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from router.config import Settings
from router.corridor.ports import Ports
from router.pipeline.settlement_stage import SettlementLogic
from router.streams.processor import Fenced, TransactionalProcessor

if TYPE_CHECKING:
    from router.metrics import RouterMetrics
    from router.observe.scrape import Scrape

log = logging.getLogger(__name__)

PAYMENT_STAGES: tuple[str, ...] = ("screening", "corridor")
SETTLEMENT_STAGES: tuple[str, ...] = ("settlement",)
STAGES: tuple[str, ...] = (*PAYMENT_STAGES, *SETTLEMENT_STAGES)

OnReady = Callable[[str, list[int]], None]


@dataclass
class Assembly:
    """The processors of one role, and the tasks that run beside them (the FX quote follower)."""

    processors: list[TransactionalProcessor[Any]] = field(default_factory=list)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # With metrics: what a /metrics scrape reads (lag, holds, queue depth...).
    scrape: Scrape | None = None


def assemble(settings: Settings, stages: tuple[str, ...], *, on_ready: OnReady | None = None,
             ports: Ports | None = None, settlement_logic: SettlementLogic | None = None,
             metrics: RouterMetrics | None = None) -> Assembly:
    """The processors for ``stages``. ``ports`` replaces the corridor's directory, quotes and
    translation (default: ``RouterPorts`` following ``fx.rates``); ``settlement_logic`` replaces the
    settlement stage's logic (to read its stats or give it a clock). With ``metrics`` every stage
    reports to those instruments (``router.observe``) and ``Assembly.scrape`` reads the rest."""
    unknown = [x for x in stages if x not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    from router.observe.payments import CorridorObserver, ScreeningObserver
    from router.observe.scrape import Scrape
    from router.observe.settlement import SettlementObserver
    from router.observe.stage import StageObserver

    out = Assembly(scrape=Scrape(metrics) if metrics is not None else None)

    def observer(stage: str) -> StageObserver | None:
        return StageObserver(metrics, stage) if metrics is not None else None

    def ready(stage: str) -> Callable[[list[int]], None] | None:
        if on_ready is None:
            return None
        return lambda parts: on_ready(stage, parts)

    if "screening" in stages:
        from router.pipeline.screening_stage import ScreeningLogic
        from router.screening.store import poll_forever

        screening = ScreeningLogic(settings, observer=ScreeningObserver(metrics) if metrics is not None else None)
        out.processors.append(TransactionalProcessor(settings, screening, on_ready=ready("screening"),
                                                     observer=observer("screening")))
        # New list versions are built in a thread: screening goes on with the old version meanwhile.
        out.background.append(lambda: poll_forever(screening.lists))
    if "corridor" in stages:
        from router.pipeline.corridor_stage import CorridorLogic

        if ports is None:
            from router.pipeline.corridor_ports import RouterPorts

            router_ports = RouterPorts.create(settings)
            out.background.append(router_ports.follow_quotes)
            ports = router_ports
        watch = CorridorObserver(metrics) if metrics is not None else None
        out.processors.append(TransactionalProcessor(settings, CorridorLogic(
            ports, max_message_bytes=settings.ingest.max_message_bytes, observer=watch,
            journey_lines=settings.log_journey), on_ready=ready("corridor"),
            observer=observer("corridor")))
        if out.scrape is not None and watch is not None:
            out.scrape.corridor(out.processors[-1], watch, ports)
    if "settlement" in stages:
        from router.pipeline.settlement_stage import settlement_processor

        logic = settlement_logic or SettlementLogic(settings.settlement)
        if metrics is not None and logic.observer is None:
            logic.observer = SettlementObserver(metrics)
        out.processors.append(settlement_processor(settings, logic=logic, on_ready=ready("settlement"),
                                                   observer=observer("settlement")))
        if out.scrape is not None:
            out.scrape.settlement(out.processors[-1])
    if out.scrape is not None:
        for proc in out.processors:
            out.scrape.stage(proc)
    return out


async def preflight(settings: Settings, stages: tuple[str, ...]) -> None:
    """On a secured cluster, fail now, with the cause, when this principal lacks what ``stages`` need
    (``router.kafka_access.AccessDenied``): not minutes later as a topic with no partitions."""
    from router.access import roles_for_stages
    from router.kafka_access import check_access, needs_of

    roles = roles_for_stages(stages)
    await check_access(settings.kafka, needs_of(roles, settings.kafka, settings.app_id), f"stages {','.join(stages)}")


async def run(assembly: Assembly, *, beside: tuple[Coroutine[Any, Any, Any], ...] = (),
              stop: asyncio.Event | None = None) -> int:
    """Run the assembly until SIGTERM / SIGINT (or ``stop``): 0 on a clean stop, 3 when another
    process fenced one of ours. ``beside`` are more tasks to run meanwhile (a web server); any
    other failure of a processor is raised."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    background = [asyncio.create_task(make()) for make in assembly.background]
    background += [asyncio.create_task(c) for c in beside]
    runs = [asyncio.create_task(p.run(stop)) for p in assembly.processors]
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
        for task in runs:
            if not task.done():
                task.cancel()
        for task in background:
            task.cancel()
        await asyncio.gather(*runs, *background, return_exceptions=True)


def configure_logging(settings: Settings) -> None:
    """Logging for a worker process (``router.logs``: text or JSON lines, per ``log_format``)."""
    from router.logs import configure_logging as configure

    configure(settings)
