"""Run the review page: case feed + decision sink + uvicorn, standalone or inside another process.

``ReviewServer.start()`` / ``stop()`` run everything as tasks on the caller's event loop, so
the worker process can embed the page; ``serve()`` is the standalone entry point.
"""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from router.access import ROLES
from router.config import Settings
from router.web.accounts import AccountError, Accounts
from router.web.app import build_review_app
from router.web.casebook import CaseBook
from router.web.kafka_io import CaseFeed, KafkaDecisionSink
from router.web.liquidity_board import LiquidityBoard
from router.web.liquidity_feed import KafkaLedgerCommands, LiquidityFeed
from router.web.liquidity_routes import LiquidityDesk

log = logging.getLogger(__name__)


class ReviewServer:
    def __init__(self, settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
        self.settings = settings
        self.book = CaseBook()
        self.feed = CaseFeed(settings, self.book)
        self.sink = KafkaDecisionSink(settings)
        accounts = Accounts.load(settings.web.accounts, settings.web.accounts_file)
        if not accounts:
            raise AccountError("the review page has no analyst accounts: add one with 'router review-account NAME "
                               "--file FILE' and set ROUTER_WEB__ACCOUNTS_FILE=FILE")
        # The operator's liquidity view, when some account may use it.
        self.liquidity: LiquidityFeed | None = None
        desk = None
        if settings.web.liquidity_operators:
            unknown = [n for n in settings.web.liquidity_operators if n not in accounts]
            if unknown:
                raise AccountError(f"web.liquidity_operators names accounts that do not exist: {unknown}")
            board = LiquidityBoard()
            self.liquidity = LiquidityFeed(settings, board)
            desk = LiquidityDesk(board, KafkaLedgerCommands(settings), dict(settings.settlement.net_debit_caps),
                                 frozenset(settings.web.liquidity_operators))

        def ready() -> bool:
            return self.feed.ready.is_set() and (self.liquidity is None or self.liquidity.ready.is_set())

        app = build_review_app(settings.web, self.book, self.sink, ready=ready, accounts=accounts, liquidity=desk)
        config = uvicorn.Config(app, host=host or settings.web.host, port=port or settings.web.port,
                                log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        web = self.settings.web
        secret = web.session_secret.get_secret_value()
        if "dev-only" in secret:
            log.warning("review page uses the default session secret: set ROUTER_WEB__SESSION_SECRET before "
                        "exposing it")
        if not web.cookie_secure:
            log.warning("review page session cookie is not Secure (web.cookie_secure=false): plain-http local "
                        "use only")
        from router.kafka_access import Needs, check_access
        from router.topics import topic_name

        role = ROLES["liquidity" if self.liquidity is not None else "review"]
        topics = tuple(topic_name(t, self.settings.kafka.topic_prefix) for t in (*role.reads, *role.writes))
        await check_access(self.settings.kafka, Needs(tuple(sorted(set(topics)))), "review page")
        await self.sink.start()
        await self.feed.start()
        if self.liquidity is not None:
            await self.liquidity.start()
        self._task = asyncio.create_task(self.server.serve(), name="review-http")
        while not self.server.started:
            if self._task.done():
                await self._task  # re-raises the bind error
                raise RuntimeError("review server stopped during start-up")
            await asyncio.sleep(0.05)
        cfg = self.server.config
        log.info("review page on http://%s:%s/", cfg.host, cfg.port)

    async def stop(self) -> None:
        if self._task is not None:
            self.server.should_exit = True
            await self._task
            self._task = None
        await self.feed.stop()
        if self.liquidity is not None:
            await self.liquidity.stop()
        await self.sink.stop()

    async def run_forever(self) -> None:
        await self.start()
        try:
            assert self._task is not None
            await self._task
        finally:
            self._task = None
            await self.feed.stop()
            await self.sink.stop()


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    asyncio.run(ReviewServer(settings, host=host, port=port).run_forever())
