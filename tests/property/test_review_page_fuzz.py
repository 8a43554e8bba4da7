"""Hypothesis fuzz of every route of the review page (the routes are read from the app, so a new
route is fuzzed too): random methods, path values, form fields, origins and CSRF tokens, with
and without a signed-in session.

Invariants: never a 5xx; without a session no route shows a case or changes anything; nothing
is published without the session's CSRF token; a release decision on a sanctions hit always
names a proposer other than its approver; a case is decided at most once."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.routing import Route
from starlette.testclient import TestClient

from router.config import WebSettings
from router.web.app import build_review_app
from router.web.casebook import CaseBook
from tests.support.analysts import PASSWORDS, web_with_analysts
from tests.unit.test_screening_review_web import UETR, RecordingSink, make_case

WEB = web_with_analysts(WebSettings(session_secret=SecretStr("fuzz-secret-0123456789"),
                                    login_attempts_per_minute=100_000))
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")

BOOK, SINK = CaseBook(), RecordingSink()
APP = build_review_app(WEB, BOOK, SINK)
ROUTES = [r for r in APP.routes if isinstance(r, Route)]
DECIDE = next(r for r in ROUTES if r.path == "/cases/{uetr}/decision")
# Some values that matter, mixed with anything at all.
text = st.one_of(st.sampled_from(["", " ", "release", "approve", "reject", UETR, "ana", "bo", "null",
                                  "../../etc/passwd", "<script>", "王芳", "%00", "x" * 3000]),
                 st.text(max_size=60))
forms = st.dictionaries(st.sampled_from(["csrf", "action", "reason", "username", "password", "x"]), text,
                        max_size=5)


def _path(route: Route, value: str) -> str:
    from urllib.parse import quote
    return re.sub(r"\{[^}]+\}", lambda _: quote(value, safe="") or "x", route.path)


def _fresh_case() -> None:
    """Each example starts from one open sanctions case and nothing published."""
    BOOK.__init__()  # type: ignore[misc]
    SINK.sent.clear()
    SINK.proposed.clear()
    BOOK.apply_case(make_case().to_bytes())


@settings(max_examples=300, deadline=None)
@given(route=st.sampled_from(ROUTES), method=st.sampled_from(METHODS), value=text, form=forms,
       origin=st.sampled_from([None, "null", "https://evil.example", "https://review.test"]))
def test_no_route_is_reachable_without_a_session(route: Route, method: str, value: str,
                                                 form: dict[str, str], origin: str | None) -> None:
    _fresh_case()
    client = TestClient(APP, base_url="https://review.test")
    headers = {"origin": origin} if origin else {}
    r = client.request(method, _path(route, value), data=form if method == "POST" else None, headers=headers,
                       follow_redirects=False)
    assert r.status_code < 500, r.text
    allowed = route.methods and method in route.methods
    if r.status_code == 200:
        assert (method, route.path) in PUBLIC or (method == "HEAD" and ("GET", route.path) in PUBLIC), route.path
    if allowed and (method, route.path) not in PUBLIC and method != "HEAD" and _reaches(route, r):
        assert r.status_code in (303, 401, 405), (route.path, r.status_code)
    assert UETR not in r.text and "MORDANT" not in r.text
    assert SINK.sent == [] and SINK.proposed == []


def _reaches(route: Route, r: Any) -> bool:
    """Whether the request, as sent, is for ``route``: a value such as "../../x" makes the client
    resolve the path elsewhere (then 404 is the right answer, and no route was reached)."""
    return route.path_regex.match(unquote(r.request.url.path)) is not None


def _signed_in(user: str) -> tuple[TestClient, str]:
    client = TestClient(APP, base_url="https://review.test")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"csrf": token, "username": user, "password": PASSWORDS[user]},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/cases").text
    return client, re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


# Half the forms are well-formed decisions, so that runs reach proposals and approvals.
decisions = st.fixed_dictionaries({"action": st.sampled_from(["release", "approve", "reject"]),
                                   "reason": st.sampled_from(["ok", "why not", "ok", "  "])})


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["ana", "bo"]), st.one_of(st.just(DECIDE), st.sampled_from(ROUTES)),
                                st.sampled_from(("POST", "POST", "GET")), st.one_of(st.just(UETR), st.just(UETR), text),
                                st.one_of(forms, decisions, decisions), st.sampled_from([True, True, True, False])),
                      min_size=1, max_size=8))
def test_signed_in_fuzz_keeps_four_eyes_and_one_decision(
        steps: list[tuple[str, Route, str, str, dict[str, str], bool]]) -> None:
    _fresh_case()
    analysts = {name: _signed_in(name) for name in ("ana", "bo")}
    for user, route, method, value, form, real_token in steps:
        client, token = analysts[user]
        if real_token:
            form = {**form, "csrf": token}
        path = _path(route, value)
        r = client.request(method, path, data=form if method == "POST" else None, follow_redirects=False)
        assert r.status_code < 500, r.text
        if route.path == "/logout" and r.status_code == 303:
            analysts[user] = _signed_in(user)
    assert len(SINK.sent) <= 1 and len({c.uetr for c in SINK.proposed}) <= 1
    event(f"decisions published: {len(SINK.sent)}, proposals: {len(SINK.proposed)}")
    for d in SINK.sent:
        if d.action == "release":
            assert d.proposed_by is not None and d.proposed_by != d.analyst
