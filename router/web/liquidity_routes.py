"""The operator's liquidity view, served beside the review page with its sign-in, sessions and CSRF
(``router.web.app``). Only accounts named in ``web.liquidity_operators`` may open it: moving
money is not an analyst's job. Funding an account and changing a net debit cap are ledger commands
on Kafka with the operator's name in them; the page shows the change once the ledger has applied
it (it reads the ledger's topics, not what it sent)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.settlement.model import Fund, SetCap
from router.web.liquidity_board import LiquidityBoard
from router.web.liquidity_pages import liquidity_page

COMMAND_ID = re.compile(r"^(fund|cap)-[0-9a-f]{24}$")


class LedgerCommands(Protocol):
    async def fund(self, account: str, amount: Decimal, currency: str, command_id: str, by: str) -> Fund: ...

    async def set_cap(self, participant: str, amount: Decimal | None, command_id: str, by: str) -> SetCap: ...


@dataclass
class LiquidityDesk:
    board: LiquidityBoard
    commands: LedgerCommands
    settings_caps: Mapping[str, Decimal]  # the caps the settings give (operators' override them)
    operators: frozenset[str]


@dataclass
class PageKit:
    """What the review app lends the view: who is signed in, its CSRF check and its responses."""

    user_of: Callable[[Request], str | None]
    csrf: Callable[[Request], str]
    form_ok: Callable[[Request], Awaitable[tuple[bool, dict[str, str]]]]
    html: Callable[[str, int], Response]
    see: Callable[[str], Response]
    refused: Callable[[int, str, str], Response]


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def liquidity_routes(desk: LiquidityDesk, kit: PageKit) -> list[Route]:
    def operator(request: Request) -> tuple[str | None, Response | None]:
        user = kit.user_of(request)
        if user is None:
            return None, kit.see("/login")
        if user not in desk.operators:
            return None, kit.refused(403, "Not an operator", "Your account may not see or move liquidity.")
        return user, None

    async def page(request: Request) -> Response:
        user, stop = operator(request)
        if stop is not None or user is None:
            return stop or kit.see("/login")
        flash = request.session.pop("flash", None)
        rows = desk.board.participants(desk.settings_caps)
        return kit.html(liquidity_page(user, desk.board, rows, kit.csrf(request),
                                       flash if isinstance(flash, str) else None), 200)

    async def checked_form(request: Request) -> tuple[str | None, dict[str, str], Response | None]:
        user, stop = operator(request)
        if stop is not None or user is None:
            return None, {}, stop or kit.see("/login")
        ok, form = await kit.form_ok(request)
        if not ok:
            return None, {}, kit.refused(403, "Refused", "The form was stale or not sent from this page.")
        if not COMMAND_ID.match(form.get("command_id", "")):
            return None, {}, kit.refused(400, "Refused", "The form has no valid command id; reload the page.")
        return user, form, None

    async def fund(request: Request) -> Response:
        user, form, stop = await checked_form(request)
        if stop is not None or user is None:
            return stop or kit.see("/login")
        account = desk.board.accounts.get(form.get("account", ""))
        if account is None:
            return kit.refused(404, "Unknown account", "No such account in the ledger.")
        amount = _amount(form.get("amount", ""))
        if amount is None:
            return kit.refused(400, "Refused", "The amount is not a number.")
        try:
            cmd = await desk.commands.fund(account.account, amount, account.currency, form["command_id"], user)
        except ValidationError as exc:
            return kit.refused(400, "Refused", f"Invalid funding: {exc.errors()[0]['msg']}")
        request.session["flash"] = (f"Funding of {cmd.amount} {cmd.currency} to {cmd.account} sent "
                                    f"({cmd.fund_id}); it shows here once the ledger has booked it.")
        return kit.see("/liquidity")

    async def cap(request: Request) -> Response:
        user, form, stop = await checked_form(request)
        if stop is not None or user is None:
            return stop or kit.see("/login")
        participant = form.get("participant", "")
        known = {r.participant for r in desk.board.participants(desk.settings_caps)}
        if participant not in known:
            return kit.refused(404, "Unknown participant", "No such participant in the ledger.")
        text = form.get("amount", "").strip()
        amount = None if not text else _amount(text)
        if text and amount is None:
            return kit.refused(400, "Refused", "The cap is not a number (leave it empty to remove the cap).")
        try:
            cmd = await desk.commands.set_cap(participant, amount, form["command_id"], user)
        except ValidationError as exc:
            return kit.refused(400, "Refused", f"Invalid cap: {exc.errors()[0]['msg']}")
        what = "removal" if cmd.amount is None else f"change to {cmd.amount}"
        request.session["flash"] = (f"Net debit cap {what} for {participant} sent ({cmd.command_id}); it shows "
                                    "here once the ledger has applied it.")
        return kit.see("/liquidity")

    return [Route("/liquidity", page, methods=["GET"]),
            Route("/liquidity/fund", fund, methods=["POST"]),
            Route("/liquidity/cap", cap, methods=["POST"])]
