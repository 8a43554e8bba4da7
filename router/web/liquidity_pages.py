"""HTML of the operator's liquidity view. Every value is escaped (account ids and names come from
the ledger's topics, which carry what payment messages said)."""

from __future__ import annotations

import secrets
from html import escape

from router.web.liquidity_board import LiquidityBoard, LsmRun, OperatorAction, ParticipantRow
from router.web.pages import _page


def command_id(kind: str) -> str:
    """A fresh id for one form: submitting the same form twice sends the same command, which the
    ledger books once (fundings are idempotent by fund id, cap changes by command id)."""
    return f"{kind}-{secrets.token_hex(12)}"


def _account_rows(row: ParticipantRow, csrf: str) -> str:
    out = []
    for a in row.accounts:
        acct = escape(a.account)
        out.append(
            f"<tr class='account' data-account='{acct}'><td>{acct}</td><td>{escape(a.currency)}</td>"
            f"<td class='balance'>{escape(str(a.balance))}</td><td class='reserved'>{escape(str(a.reserved))}</td>"
            f"<td class='available'>{escape(str(a.available))}</td><td class='net'>{escape(str(a.net))}</td>"
            f"<td><form method='post' action='/liquidity/fund' class='fund'>"
            f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
            f"<input type='hidden' name='command_id' value='{command_id('fund')}'>"
            f"<input type='hidden' name='account' value='{acct}'>"
            f"<input name='amount' inputmode='decimal' required size='12' aria-label='amount to fund {acct}'> "
            f"<button type='submit'>Fund</button></form></td></tr>")
    return "".join(out)


def _participant(row: ParticipantRow, csrf: str) -> str:
    p = escape(row.participant)
    queued = ", ".join(f"{escape(str(v))} {escape(c)}" for c, v in row.queued_amount.items())
    cap = "none" if row.cap is None else escape(str(row.cap))
    by = f" (set by <b class='cap-by'>{escape(row.cap_by)}</b>)" if row.cap_by else ""
    return f"""
<section class="participant" data-participant="{p}">
<h2>{p}</h2>
<p>Queue: <b class="queued">{row.queued}</b> waiting{f' ({queued})' if queued else ''};
conditional holds: <b class="holds">{row.holds}</b>; net debit cap: <b class="cap">{cap}</b>{by}</p>
<table><tr><th>account</th><th>ccy</th><th>balance</th><th>reserved</th><th>available</th><th>net</th>
<th>fund</th></tr>{_account_rows(row, csrf)}</table>
<form method="post" action="/liquidity/cap" class="cap">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="command_id" value="{command_id('cap')}">
<input type="hidden" name="participant" value="{p}">
<label>New net debit cap <input name="amount" inputmode="decimal" size="14"
placeholder="empty: remove"></label> <button type="submit">Set cap</button></form>
</section>"""


def _runs(runs: list[LsmRun]) -> str:
    if not runs:
        return "<p id='no-lsm'>No LSM run yet.</p>"
    rows = "".join(f"<tr><td>{escape(r.at.isoformat())}</td><td>{escape(r.run)}</td><td>{escape(r.kind)}</td>"
                   f"<td>{r.settlements}</td><td>{escape(', '.join(r.accounts))}</td></tr>" for r in runs)
    return ("<table id='lsm-runs'><tr><th>at</th><th>run</th><th>pass</th><th>settlements</th><th>accounts</th></tr>"
            f"{rows}</table>")


def _actions(actions: list[OperatorAction]) -> str:
    if not actions:
        return "<p>None yet.</p>"
    rows = "".join(f"<tr><td>{escape(a.at.isoformat())}</td><td>{escape(a.what)}</td><td>{escape(a.by or '-')}</td>"
                   f"<td>{escape(a.subject)}</td><td>{escape('-' if a.amount is None else str(a.amount))}</td></tr>"
                   for a in actions)
    return ("<table id='actions'><tr><th>at</th><th>what</th><th>by</th><th>account / participant</th>"
            f"<th>amount</th></tr>{rows}</table>")


def liquidity_page(user: str, board: LiquidityBoard, rows: list[ParticipantRow], csrf: str,
                   flash: str | None = None) -> str:
    note = f"<p class='flash' role='status'>{escape(flash)}</p>" if flash else ""
    body = "".join(_participant(r, csrf) for r in rows) or "<p id='empty'>No accounts yet.</p>"
    return _page("Liquidity", f"""
<form method="post" action="/logout" style="float:right"><input type="hidden" name="csrf" value="{escape(csrf)}">
<span id="user">{escape(user)}</span> <button type="submit">Sign out</button></form>
<h1>Liquidity</h1><p><a href="/cases">Held payments</a></p>{note}
<h2>Liquidity-saving mechanism: last runs</h2>{_runs(list(board.lsm_runs))}
<h2>Operators' last actions</h2>{_actions(list(board.actions))}
{body}""")
