"""The review page as a small ASGI (Starlette) app.

Security: one analyst account from settings (constant-time comparison, a short lockout after
repeated failures), a signed session cookie (HttpOnly, SameSite=Strict), a per-session CSRF
token on every POST form (login included), an Origin check, and headers that forbid framing,
scripts and caching. State changing requests are POST only.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from router.config import WebSettings
from router.screening.cases import analyst_decision
from router.web import pages
from router.web.casebook import CaseBook
from router.web.kafka_io import DecisionSink

SESSION_COOKIE = "router_review"
SESSION_MAX_AGE = 8 * 3600
MAX_FAILURES = 5
LOCKOUT_S = 300.0

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
    ok = isinstance(expected, str) and hmac.compare_digest(sent.encode(), expected.encode()) and _same_origin(request)
    return ok, values


def build_review_app(web: WebSettings, book: CaseBook, sink: DecisionSink,
                     ready: Callable[[], bool] = lambda: True) -> Starlette:
    failures: dict[str, deque[float]] = defaultdict(deque)
    user_ok = web.reviewer_username.encode()
    password_ok = web.reviewer_password.get_secret_value().encode()

    def user_of(request: Request) -> str | None:
        user = request.session.get("user")
        return user if isinstance(user, str) else None

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def see(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)

    async def index(request: Request) -> Response:
        return see("/cases" if user_of(request) else "/login")

    async def login_form(request: Request) -> Response:
        return html(pages.login_page(_csrf(request)))

    async def login(request: Request) -> Response:
        ok, form = await _form_ok(request)
        if not ok:
            return html(pages.login_page(_csrf(request), "Your session expired; please sign in again."), 400)
        name = form.get("username", "")
        recent = failures[name]
        now = time.monotonic()
        while recent and now - recent[0] > LOCKOUT_S:
            recent.popleft()
        if len(recent) >= MAX_FAILURES:
            return html(pages.login_page(_csrf(request), "Too many failed attempts; try again later."), 429)
        good_user = hmac.compare_digest(name.encode(), user_ok)
        good_pw = hmac.compare_digest(form.get("password", "").encode(), password_ok)
        if not (good_user and good_pw):
            recent.append(now)
            return html(pages.login_page(_csrf(request), "Wrong user or password."), 401)
        recent.clear()
        request.session.clear()
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
        return html(pages.cases_page(user, book.open_cases(), _csrf(request), note))

    async def decide(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return see("/login")
        ok, form = await _form_ok(request)
        if not ok:
            return html(pages.message_page("Refused", "The form was stale or not sent from this page."), 403)
        uetr = request.path_params["uetr"]
        action = form.get("action", "")
        reason = form.get("reason", "").strip()
        if action not in ("release", "reject"):
            return html(pages.message_page("Refused", "Choose release or reject."), 400)
        if not reason:
            return html(pages.message_page("Reason required", "Say why you release or reject the payment."), 400)
        case = book.get(uetr)
        if case is None:
            done = book.decided(uetr)
            text = (f"Already decided: {done.action} by {done.analyst}." if done else "No such held payment.")
            return html(pages.message_page("Not open", text), 404 if done is None else 409)
        decision = analyst_decision(case, action, reason[:2000], user)  # type: ignore[arg-type]
        await sink.publish(decision)
        book.close(uetr, decision)
        request.session["flash"] = f"Payment {uetr}: {'released' if action == 'release' else 'rejected'}."
        return see("/cases")

    async def health(request: Request) -> Response:
        return JSONResponse({"ready": ready(), "open_cases": len(book)}, headers=SECURITY_HEADERS,
                            status_code=200 if ready() else 503)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/cases", cases, methods=["GET"]),
        Route("/cases/{uetr}/decision", decide, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=web.session_secret.get_secret_value(),
                             session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE, same_site="strict")]
    return Starlette(routes=routes, middleware=middleware)

