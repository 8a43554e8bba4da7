"""The review page as a small ASGI (Starlette) app.

Security model:
- Analysts sign in with their own accounts (argon2 hashes, ``router.web.accounts``). Sign-in is
  rate-limited per client address, and an account locks for a while after repeated failures.
- Every page needs a signed-in session, except the sign-in form itself and ``/healthz``, which
  tells a readiness probe only whether the page is ready.
- The session cookie is signed, HttpOnly, SameSite=Strict and Secure (``web.cookie_secure``).
- Every POST carries the session's CSRF token and must come from this origin. State changes
  are POST only.
- A case is decided once. A release of a sanctions hit takes two analysts (``four_eyes``), and
  only the approved release reaches ``screening.decisions``.
- Headers forbid framing, scripts and caching.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from router.config import WebSettings
from router.screening.four_eyes import ACTIONS, Decide, Propose, Refuse, review
from router.web import pages
from router.web.accounts import Accounts
from router.web.casebook import CaseBook
from router.web.kafka_io import DecisionSink
from router.web.liquidity_routes import LiquidityDesk, PageKit, liquidity_routes

SESSION_COOKIE = "router_review"
SESSION_MAX_AGE = 8 * 3600
MAX_FAILURES = 5
LOCKOUT_S = 300
MAX_REASON = 2000

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium send Origin: null
    "Cache-Control": "no-store",
}


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def _form_ok(request: Request) -> tuple[bool, dict[str, str]]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    sent = values.get("csrf", "")
    expected = request.session.get("csrf")
    ok = (isinstance(expected, str) and hmac.compare_digest(sent.encode(), expected.encode())
          and _same_origin(request))
    return ok, values


def build_review_app(web: WebSettings, book: CaseBook, sink: DecisionSink,
                     ready: Callable[[], bool] = lambda: True, accounts: Accounts | None = None,
                     liquidity: LiquidityDesk | None = None) -> Starlette:
    accounts = accounts if accounts is not None else Accounts.load(web.accounts, web.accounts_file)
    limiter = MovingWindowRateLimiter(MemoryStorage())
    per_client = RateLimitItemPerMinute(web.login_attempts_per_minute)
    per_account = RateLimitItemPerSecond(MAX_FAILURES, LOCKOUT_S)
    # One decision at a time: the check that a case is open and its closing must not interleave
    # with another request's (two analysts clicking at once, or a double submit).
    deciding = asyncio.Lock()

    def user_of(request: Request) -> str | None:
        user = request.session.get("user")
        return user if isinstance(user, str) and user in accounts else None

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def see(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)

    def refused(status: int, title: str, text: str) -> HTMLResponse:
        return html(pages.message_page(title, text), status)

    async def index(request: Request) -> Response:
        return see("/cases" if user_of(request) else "/login")

    async def login_form(request: Request) -> Response:
        return html(pages.login_page(_csrf(request)))

    async def login(request: Request) -> Response:
        ok, form = await _form_ok(request)
        if not ok:
            return html(pages.login_page(_csrf(request), "Your session expired; please sign in again."), 400)
        client = request.client.host if request.client else "?"
        if not limiter.hit(per_client, "client", client):
            return html(pages.login_page(_csrf(request), "Too many sign-in attempts; wait a minute."), 429)
        name = form.get("username", "")[:64]
        if not limiter.test(per_account, "account", name):
            return html(pages.login_page(_csrf(request), "Too many failed attempts; try again later."), 429)
        if not await asyncio.to_thread(accounts.verify, name, form.get("password", "")[:1024]):
            limiter.hit(per_account, "account", name)
            return html(pages.login_page(_csrf(request), "Wrong user or password."), 401)
        limiter.clear(per_account, "account", name)
        request.session.clear()  # a fresh session: nothing carried over from before sign-in
        request.session["user"] = name
        request.session["csrf"] = secrets.token_urlsafe(32)
        return see("/cases")

    async def logout(request: Request) -> Response:
        ok, _ = await _form_ok(request)
        if ok:
            request.session.clear()
        return see("/login")

    async def cases(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return see("/login")
        flash = request.session.pop("flash", None)
        note = flash if isinstance(flash, str) else None
        return html(pages.cases_page(user, book.open_cases(), _csrf(request), web.four_eyes, note))

    async def decide(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return refused(401, "Sign in first", "Your session has ended; sign in again.")
        ok, form = await _form_ok(request)
        if not ok:
            return refused(403, "Refused", "The form was stale or not sent from this page.")
        uetr = request.path_params["uetr"]
        action = form.get("action", "")
        reason = form.get("reason", "").strip()
        if action not in ACTIONS:
            return refused(400, "Refused", "Choose release, approve or reject.")
        if not reason:
            return refused(400, "Reason required", "Say why you release or reject the payment.")
        async with deciding:
            case = book.get(uetr)
            if case is None:
                done = book.decided(uetr)
                if done is None:
                    return refused(404, "Not open", "No such held payment.")
                return refused(409, "Not open", f"Already decided: {done.action} by {done.analyst}.")
            step = review(case, action, reason[:MAX_REASON], user, web.four_eyes, datetime.now(UTC))
            if isinstance(step, Refuse):
                return refused(403 if step.kind == "forbidden" else 409, "Refused", step.text)
            if isinstance(step, Propose):
                await sink.propose(step.case)
                book.propose(step.case)
                request.session["flash"] = f"Payment {uetr}: release proposed; a second analyst must approve it."
                return see("/cases")
            assert isinstance(step, Decide)
            await sink.publish(step.decision)
            book.close(uetr, step.decision)
        done_text = "released" if step.decision.action == "release" else "rejected"
        request.session["flash"] = f"Payment {uetr}: {done_text}."
        return see("/cases")

    async def health(request: Request) -> Response:
        return JSONResponse({"ready": ready()}, headers=SECURITY_HEADERS, status_code=200 if ready() else 503)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/cases", cases, methods=["GET"]),
        Route("/cases/{uetr}/decision", decide, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    if liquidity is not None:
        routes += liquidity_routes(liquidity, PageKit(user_of=user_of, csrf=_csrf, form_ok=_form_ok, html=html,
                                                      see=see, refused=refused))
    middleware = [Middleware(SessionMiddleware, secret_key=web.session_secret.get_secret_value(),
                             session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE, same_site="strict",
                             https_only=web.cookie_secure)]
    return Starlette(routes=routes, middleware=middleware)
