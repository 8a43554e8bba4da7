"""HTML for the review page. Every value from a case is escaped: names in payments are
attacker-controlled text, and this page is where a compliance officer reads them."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from router.screening.cases import Case
from router.screening.four_eyes import Policy, needs_second_analyst
from router.screening.model import Match

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Noto Sans CJK",sans-serif;margin:1.5rem;color:#1b1b1b}
.proposal{background:#fff7e0;border:1px solid #cc9;padding:.5rem}
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.case{border:1px solid #999;border-radius:6px;padding:1rem;margin:1rem 0}
.flash{background:#eef7ee;border:1px solid #7a7;padding:.5rem}
.error{background:#fbeaea;border:1px solid #c77;padding:.5rem}
textarea{width:100%;max-width:40rem}
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def login_page(csrf: str, error: str | None = None) -> str:
    err = f"<p class='error' role='alert'>{escape(error)}</p>" if error else ""
    return _page("Compliance review - sign in", f"""
<h1>Compliance review</h1>{err}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<p><label>User <input name="username" id="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" id="password" type="password" autocomplete="current-password"
required></label></p>
<p><button type="submit" id="login">Sign in</button></p>
</form>""")


def _why(m: Match) -> str:
    """How the names compare and what the identifiers say, payment's value beside the list's."""
    parts = []
    if m.name_score is not None and m.name_score != m.score:
        parts.append(f"name alone {m.name_score:.2f}")
    if m.basis != "spelling":
        parts.append(m.basis)
    if m.short:
        parts.append("short name")
    head = escape(", ".join(parts))
    items = "".join(f"<li class='{'agrees' if e.startswith('agrees') else 'contradicts'}'>{escape(e)}</li>"
                    for e in m.evidence)
    return head + (f"<ul class='evidence'>{items}</ul>" if items else "")


def _matches_table(case: Case) -> str:
    if not case.matches:
        return ""
    rows = "".join(
        f"<tr><td>{escape(m.party)}</td><td>{escape(m.field)}</td><td>{escape(m.screened)}</td>"
        f"<td>{escape(m.list)}</td><td>{escape(m.entry)}</td><td>{escape(m.entry_name)}</td>"
        f"<td>{escape(m.matched)}</td><td class='score'>{m.score:.2f}</td><td>{_why(m)}</td></tr>"
        for m in case.matches
    )
    return ("<table class='matches'><tr><th>party</th><th>field</th><th>screened</th><th>list</th><th>entry</th>"
            f"<th>listed name</th><th>matched value</th><th>score</th><th>why</th></tr>{rows}</table>")


def _rules(case: Case) -> str:
    if not case.rules:
        return ""
    items = "".join(f"<li>{escape(r.rule)}: {escape(r.text)}</li>" for r in case.rules)
    return f"<ul class='rules'>{items}</ul>"


def _name(name: str | None, original: str | None) -> str:
    """The screened (Latin) name, with the name as sent (e.g. Chinese characters) beside it."""
    shown = escape(name or original or "?")
    if original and original != name:
        shown += f" <span class='original' lang='zh'>({escape(original)})</span>"
    return shown


def _actions(case: Case, user: str, policy: Policy) -> str:
    p = case.release_proposal
    if p is None:
        label = "Propose release" if needs_second_analyst(case, policy) else "Release"
        return (f'<button type="submit" name="action" value="release">{label}</button> '
                '<button type="submit" name="action" value="reject">Reject</button>')
    note = (f"<p class='proposal'>Release proposed by <b class='proposer'>{escape(p.analyst)}</b> "
            f"({escape(p.at.isoformat())}): {escape(p.reason)}</p>")
    if p.analyst == user:
        return (note + "<p>Waiting for a second analyst to approve it.</p>"
                '<button type="submit" name="action" value="reject">Reject</button>')
    return (note + '<button type="submit" name="action" value="approve">Approve release</button> '
            '<button type="submit" name="action" value="reject">Reject</button>')


def _case(case: Case, csrf: str, user: str, policy: Policy) -> str:
    r = case.request
    versions = ", ".join(f"{v.get('source')} {v.get('published')} ({v.get('entries')} entries)"
                         for v in case.list_versions)
    uetr = escape(case.uetr)
    debtor, creditor = _name(r.debtor.name, r.debtor.name_original), _name(r.creditor.name, r.creditor.name_original)
    return f"""
<section class="case" data-uetr="{uetr}">
<h2>Payment {uetr}</h2>
<p>{escape(str(r.amount))} {escape(r.currency)} from <b class='debtor'>{debtor}</b>
to <b class='creditor'>{creditor}</b>; held {escape(case.opened_at.isoformat())}</p>
<p class="reason">{escape(case.reason)}</p>
{_matches_table(case)}{_rules(case)}
<p><small>Lists: {escape(versions)}</small></p>
<form method="post" action="/cases/{escape(quote(case.uetr, safe=""))}/decision">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label>Reason <textarea name="reason" required maxlength="2000" rows="2"></textarea></label>
<p>{_actions(case, user, policy)}</p>
</form>
</section>"""


def cases_page(user: str, cases: list[Case], csrf: str, policy: Policy, flash: str | None = None) -> str:
    note = f"<p class='flash' role='status'>{escape(flash)}</p>" if flash else ""
    body = "".join(_case(c, csrf, user, policy) for c in cases) or "<p id='empty'>No held payments.</p>"
    return _page("Held payments", f"""
<form method="post" action="/logout" style="float:right"><input type="hidden" name="csrf" value="{escape(csrf)}">
<span id="user">{escape(user)}</span> <button type="submit">Sign out</button></form>
<h1>Held payments <span id="count">({len(cases)})</span></h1>{note}{body}""")


def message_page(title: str, text: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p><p><a href='/cases'>Back</a></p>")
