"""XML -> canonical model, once per inbound message.

``extract`` reads whichever registered message an ``Identified`` holds into the canonical model
(no validation beyond what building the model needs). ``normalise`` is what ingest calls: the
side's profile XSD, then extraction, then the usage rules; any failure is a ``Reject`` whose
``stage`` says which step refused it ("schema" -> answer with admi.002, "rules" -> pacs.002 RJCT).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from lxml import etree
from pydantic import ValidationError

from router.iso20022.model import (
    Account,
    Agent,
    CancellationRequest,
    CanonicalMessage,
    Header,
    MessageReject,
    Notification,
    OriginalRef,
    Party,
    Payment,
    PostalAddress,
    Profile,
    Resolution,
    Return,
    Side,
    StatusReport,
)
from router.iso20022.registry import Identified
from router.outcome import FORMAT_ERROR, Ok, Outcome, Reject

_El = etree._Element
_ELEMENTS = etree.Element  # iterdescendants filter: elements only, no comments or PIs
STAGE_SCHEMA = "schema"
STAGE_EXTRACT = "extract"
STAGE_RULES = "rules"
PROFILE_OF_SIDE: dict[str, Profile] = {"cips": "cips", "corr": "cbpr"}


# The message as nested dicts (local name -> text, dict, (text, Ccy) for amounts, or a list when
# repeated): one walk over the tree, then plain dict lookups. Reading each field with ElementPath
# costs several microseconds per field; this is what keeps extraction off the critical path.
Node = dict[str, Any]


def _tree(el: _El) -> Node:
    tag = el.tag
    assert isinstance(tag, str)
    # Every element of a message shares its root's namespace: cut "{namespace}" by length.
    cut = tag.rfind("}") + 1
    top: Node = {}
    # One C-level pass in document order; each element's dict is found through its parent
    # (lxml hands back the same proxy while it is referenced, here as a key of ``nodes``).
    nodes: dict[_El, Node] = {el: top}
    for e in el.iterdescendants(_ELEMENTS):
        name = e.tag[cut:]
        parent = nodes[e.getparent()]  # type: ignore[index]
        if len(e):
            v: Any = {}
            nodes[e] = v
        else:
            text = e.text
            v = text.strip() if text else ""
            if name[-3:] == "Amt":
                v = (v, e.get("Ccy") or "")
        prev = parent.get(name)
        if prev is None:
            parent[name] = v
        elif type(prev) is list:
            prev.append(v)
        else:
            parent[name] = [prev, v]
    return top


@lru_cache(maxsize=4096)
def _split(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _walk(node: Node | None, path: str) -> Any:
    cur: Any = node
    for part in _split(path):
        if isinstance(cur, list):
            cur = cur[0]
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
        if cur is None:
            return None
    return cur


def _one(v: Any) -> Any:
    return v[0] if type(v) is list else v


def _s(v: Any) -> str | None:
    """The text of a tree value (first of a repeated element; an amount's number), or None."""
    if type(v) is list:
        v = v[0]
    if type(v) is tuple:
        v = v[0]
    return v or None if type(v) is str else None


class _R:
    """Reads a message tree: ``t`` is the text at a relative path, or None."""

    __slots__ = ()

    def f(self, node: Node | None, path: str) -> Node | None:
        v = _walk(node, path) if "/" in path else node.get(path) if node else None
        if type(v) is list:
            v = v[0]
        return v if type(v) is dict else None

    def all(self, node: Node | None, path: str) -> list[str]:
        v = _walk(node, path)
        items = v if isinstance(v, list) else [] if v is None else [v]
        return [x if isinstance(x, str) else x[0] if isinstance(x, tuple) else "" for x in items]

    def t(self, node: Node | None, path: str) -> str | None:
        return _s(_walk(node, path) if "/" in path else node.get(path) if node else None)

    def req(self, node: Node | None, path: str) -> str:
        v = self.t(node, path)
        if v is None:
            raise ValueError(f"{path} is missing")
        return v

    def dec(self, node: Node | None, path: str) -> tuple[Decimal, str] | None:
        v = _walk(node, path)
        if isinstance(v, list):
            v = v[0]
        if isinstance(v, tuple) and v[0]:
            return Decimal(v[0]), v[1].strip()
        if isinstance(v, str) and v:
            return Decimal(v), ""
        return None

    def date(self, el: Node | None, path: str) -> date | None:
        v = self.t(el, path)
        return date.fromisoformat(v) if v else None

    def dt(self, el: Node | None, path: str) -> datetime:
        return datetime.fromisoformat(self.req(el, path))

    def address(self, el: Node | None) -> PostalAddress | None:
        a = _one(el.get("PstlAdr")) if el else None
        if not isinstance(a, dict):
            return None
        g = a.get
        lines = g("AdrLine")
        return PostalAddress(
            street=_s(g("StrtNm")), building_number=_s(g("BldgNb")), building_name=_s(g("BldgNm")),
            post_code=_s(g("PstCd")), town=_s(g("TwnNm")), district=_s(g("DstrctNm")),
            country_subdivision=_s(g("CtrySubDvsn")), country=_s(g("Ctry")),
            lines=() if lines is None else tuple(lines) if isinstance(lines, list) else (lines,),
        )

    def agent(self, el: Node | None, path: str | None = None) -> Agent | None:
        node = self.f(el, path) if path else el
        fi = _one(node.get("FinInstnId")) if node else None
        if not isinstance(fi, dict):
            return None
        bic, name = _s(fi.get("BICFI")), _s(fi.get("Nm"))
        mmb = _one(fi.get("ClrSysMmbId"))
        if not isinstance(mmb, dict):
            return Agent(bic=bic, name=name, address=self.address(fi))
        system = self.t(mmb, "ClrSysId/Cd") or self.t(mmb, "ClrSysId/Prtry")
        member = _s(mmb.get("MmbId"))
        is_cips = system == "CIPS"
        return Agent(bic=bic, cips_id=member if is_cips else None,
                     member_id=None if is_cips else member, clearing_system=None if is_cips else system,
                     name=name, address=self.address(fi))

    def party(self, el: Node | None, path: str) -> Party | None:
        node = self.f(el, path)
        if node is None:
            return None
        return Party(name=self.t(node, "Nm"), address=self.address(node),
                       bic=self.t(node, "Id/OrgId/AnyBIC"))

    def account(self, el: Node | None, path: str) -> Account | None:
        node = self.f(el, path)
        if node is None:
            return None
        ccy = self.t(node, "Ccy")
        iban = self.t(node, "Id/IBAN")
        if iban:
            return Account(id=iban, kind="iban", currency=ccy)
        scheme = self.t(node, "Id/Othr/SchmeNm/Prtry") or self.t(node, "Id/Othr/SchmeNm/Cd")
        return Account(id=self.req(node, "Id/Othr/Id"), kind="ecny" if scheme == "ECNY" else "other",
                       scheme=scheme, currency=ccy)

    def original(self, tx: Node, group: str = "OrgnlGrpInf", amount_path: str = "OrgnlIntrBkSttlmAmt",
                 date_path: str = "OrgnlIntrBkSttlmDt") -> OriginalRef:
        amt = self.dec(tx, amount_path)
        return OriginalRef(
            msg_id=self.t(tx, f"{group}/OrgnlMsgId") or "NOTPROVIDED",
            msg_def_id=self.t(tx, f"{group}/OrgnlMsgNmId") or "NOTPROVIDED",
            instr_id=self.t(tx, "OrgnlInstrId"), end_to_end_id=self.t(tx, "OrgnlEndToEndId"),
            tx_id=self.t(tx, "OrgnlTxId"), uetr=self.t(tx, "OrgnlUETR"),
            amount=amt[0] if amt else None, currency=amt[1] if amt else None,
            settlement_date=self.date(tx, date_path),
        )




def read_header(el: _El | None) -> Header | None:
    if el is None:
        return None
    h = _tree(el)
    r = _R()

    def who(path: str) -> Agent:
        a = r.agent(h, f"{path}/FIId")
        if a is not None:
            return a
        return Agent(name=r.t(h, f"{path}/OrgId/Nm"), bic=r.t(h, f"{path}/OrgId/Id/OrgId/AnyBIC"))

    return Header(sender=who("Fr"), receiver=who("To"), biz_msg_id=r.req(h, "BizMsgIdr"),
                  msg_def_id=r.req(h, "MsgDefIdr"), biz_svc=r.t(h, "BizSvc"),
                  created=r.dt(h, "CreDt"))


def _payment(r: _R, root: Node, header: Header | None, kind: Literal["pacs.008", "pacs.009"]) -> Payment:
    g = r.f(root, "GrpHdr")
    tx = r.f(root, "CdtTrfTxInf")
    if tx is None:
        raise ValueError("CdtTrfTxInf is missing")
    amt = r.dec(tx, "IntrBkSttlmAmt")
    if amt is None:
        raise ValueError("IntrBkSttlmAmt is missing")
    inst = r.dec(tx, "InstdAmt")
    rate = r.t(tx, "XchgRate")
    inter = tuple(a for a in (r.agent(tx, f"IntrmyAgt{i}") for i in (1, 2, 3)) if a is not None)
    fi = kind == "pacs.009"
    debtor_agent = r.agent(tx, "Dbtr" if fi else "DbtrAgt")
    creditor_agent = r.agent(tx, "Cdtr" if fi else "CdtrAgt")
    if debtor_agent is None or creditor_agent is None:
        raise ValueError("debtor and creditor agents must identify a financial institution")
    return Payment(
        kind=kind, header=header, msg_id=r.req(g, "MsgId"), created=r.dt(g, "CreDtTm"),
        instr_id=r.t(tx, "PmtId/InstrId"), end_to_end_id=r.req(tx, "PmtId/EndToEndId"),
        tx_id=r.t(tx, "PmtId/TxId"), uetr=r.req(tx, "PmtId/UETR"),
        settlement_amount=amt[0], currency=amt[1],
        settlement_date=r.date(tx, "IntrBkSttlmDt"),
        settlement_method=r.req(g, "SttlmInf/SttlmMtd"),
        clearing_system=r.t(g, "SttlmInf/ClrSys/Prtry") or r.t(g, "SttlmInf/ClrSys/Cd"),
        instructed_amount=inst[0] if inst else None, instructed_currency=inst[1] if inst else None,
        exchange_rate=Decimal(rate) if rate else None,
        charge_bearer=r.t(tx, "ChrgBr"),
        purpose=r.t(tx, "Purp/Cd") or r.t(tx, "Purp/Prtry"),
        category_purpose=r.t(tx, "PmtTpInf/CtgyPurp/Cd"),
        instructing_agent=r.agent(tx, "InstgAgt"), instructed_agent=r.agent(tx, "InstdAgt"),
        intermediary_agents=inter,
        debtor=None if fi else r.party(tx, "Dbtr"), debtor_account=r.account(tx, "DbtrAcct"),
        debtor_agent=debtor_agent, creditor_agent=creditor_agent,
        creditor=None if fi else r.party(tx, "Cdtr"), creditor_account=r.account(tx, "CdtrAcct"),
        remittance=tuple(r.all(tx, "RmtInf/Ustrd")),
    )


def _status(r: _R, root: Node, header: Header | None) -> StatusReport:
    g = r.f(root, "GrpHdr")
    tx = r.f(root, "TxInfAndSts")
    if tx is None:
        raise ValueError("TxInfAndSts is missing (group-level status reports are not supported)")
    orig = r.original(tx, amount_path="OrgnlTxRef/IntrBkSttlmAmt", date_path="OrgnlTxRef/IntrBkSttlmDt")
    if orig.msg_id == "NOTPROVIDED":
        orig = orig.model_copy(update={"msg_id": r.t(root, "OrgnlGrpInfAndSts/OrgnlMsgId") or "NOTPROVIDED",
                                       "msg_def_id": r.t(root, "OrgnlGrpInfAndSts/OrgnlMsgNmId") or "NOTPROVIDED"})
    return StatusReport(
        header=header, msg_id=r.req(g, "MsgId"), created=r.dt(g, "CreDtTm"), original=orig,
        status=r.req(tx, "TxSts"),
        reason_code=r.t(tx, "StsRsnInf/Rsn/Cd") or r.t(tx, "StsRsnInf/Rsn/Prtry"),
        reason_text=r.t(tx, "StsRsnInf/AddtlInf"),
        instructing_agent=r.agent(tx, "InstgAgt") or r.agent(g, "InstgAgt"),
        instructed_agent=r.agent(tx, "InstdAgt") or r.agent(g, "InstdAgt"),
    )


def _return(r: _R, root: Node, header: Header | None) -> Return:
    g = r.f(root, "GrpHdr")
    tx = r.f(root, "TxInf")
    if tx is None:
        raise ValueError("TxInf is missing")
    amt = r.dec(tx, "RtrdIntrBkSttlmAmt")
    if amt is None:
        raise ValueError("RtrdIntrBkSttlmAmt is missing")
    return Return(
        header=header, msg_id=r.req(g, "MsgId"), created=r.dt(g, "CreDtTm"), original=r.original(tx),
        rtr_id=r.t(tx, "RtrId") or r.req(g, "MsgId"), returned_amount=amt[0], currency=amt[1],
        settlement_date=r.date(tx, "IntrBkSttlmDt") or r.date(g, "IntrBkSttlmDt"),
        settlement_method=r.req(g, "SttlmInf/SttlmMtd"), charge_bearer=r.t(tx, "ChrgBr"),
        reason_code=r.t(tx, "RtrRsnInf/Rsn/Cd") or r.t(tx, "RtrRsnInf/Rsn/Prtry") or "NARR",
        reason_text=r.t(tx, "RtrRsnInf/AddtlInf"),
        instructing_agent=r.agent(tx, "InstgAgt") or r.agent(g, "InstgAgt"),
        instructed_agent=r.agent(tx, "InstdAgt") or r.agent(g, "InstdAgt"),
    )


def _assigned(r: _R, root: Node, who: str) -> Agent:
    a = r.agent(root, f"Assgnmt/{who}/Agt")
    if a is not None:
        return a
    return Agent(name=r.t(root, f"Assgnmt/{who}/Pty/Nm"))


def _cancellation(r: _R, root: Node, header: Header | None) -> CancellationRequest:
    tx = r.f(root, "Undrlyg/TxInf")
    if tx is None:
        raise ValueError("Undrlyg/TxInf is missing")
    return CancellationRequest(
        header=header, assignment_id=r.req(root, "Assgnmt/Id"), created=r.dt(root, "Assgnmt/CreDtTm"),
        assigner=_assigned(r, root, "Assgnr"), assignee=_assigned(r, root, "Assgne"),
        case_id=r.t(root, "Case/Id") or r.t(tx, "Case/Id"), cancellation_id=r.t(tx, "CxlId"),
        original=r.original(tx),
        reason_code=r.t(tx, "CxlRsnInf/Rsn/Cd") or r.t(tx, "CxlRsnInf/Rsn/Prtry") or "NARR",
        reason_text=r.t(tx, "CxlRsnInf/AddtlInf"),
    )


def _resolution(r: _R, root: Node, header: Header | None) -> Resolution:
    tx = r.f(root, "CxlDtls/TxInfAndSts")
    if tx is None:
        raise ValueError("CxlDtls/TxInfAndSts is missing")
    conf = r.t(root, "Sts/Conf")
    tx_status = r.t(tx, "TxCxlSts")
    status = conf if conf in ("CNCL", "RJCR", "PDCR") else {"ACCR": "CNCL", "RJCR": "RJCR"}.get(tx_status or "", "PDCR")
    return Resolution(
        header=header, assignment_id=r.req(root, "Assgnmt/Id"), created=r.dt(root, "Assgnmt/CreDtTm"),
        assigner=_assigned(r, root, "Assgnr"), assignee=_assigned(r, root, "Assgne"),
        case_id=r.t(root, "RslvdCase/Id"), status=status,
        original=r.original(tx),
        reason_code=r.t(tx, "CxlStsRsnInf/Rsn/Cd") or r.t(tx, "CxlStsRsnInf/Rsn/Prtry"),
    )


def _notification(r: _R, root: Node, header: Header | None) -> Notification:
    g = r.f(root, "GrpHdr")
    nt = r.f(root, "Ntfctn")
    e = r.f(nt, "Ntry")
    if nt is None or e is None:
        raise ValueError("Ntfctn/Ntry is missing")
    amt = r.dec(e, "Amt")
    acct = r.account(nt, "Acct")
    if amt is None or acct is None:
        raise ValueError("Ntry/Amt and Acct are required")
    booked = r.date(e, "BookgDt/Dt") or (datetime.fromisoformat(r.req(e, "BookgDt/DtTm")).date()
                                         if r.t(e, "BookgDt/DtTm") else r.dt(g, "CreDtTm").date())
    refs = r.f(e, "NtryDtls/TxDtls/Refs")
    return Notification(
        header=header, msg_id=r.req(g, "MsgId"), created=r.dt(g, "CreDtTm"), notification_id=r.req(nt, "Id"),
        account=acct, account_owner=r.agent(nt, "Acct/Svcr"), amount=amt[0], currency=amt[1],
        credit_debit=r.req(e, "CdtDbtInd"),
        booking_date=booked, uetr=r.t(refs, "UETR"), end_to_end_id=r.t(refs, "EndToEndId"),
        instr_id=r.t(refs, "InstrId"),
    )


def _reject(r: _R, root: Node, header: Header | None) -> MessageReject:
    rsn = r.f(root, "Rsn")
    when = r.t(rsn, "RjctnDtTm")
    return MessageReject(
        header=header, reference=r.req(root, "RltdRef/Ref"), reason=r.req(rsn, "RjctgPtyRsn"),
        created=datetime.fromisoformat(when) if when else (header.created if header else datetime.fromisoformat(
            "1970-01-01T00:00:00+00:00")),
        location=r.t(rsn, "ErrLctn"), description=r.t(rsn, "RsnDesc"),
    )


def extract(ident: Identified) -> Outcome[CanonicalMessage]:
    """The canonical model of ``ident``; a Reject when a field the model needs is missing or malformed."""
    if ident.document is None or ident.message is None:
        return Reject(FORMAT_ERROR, "no Document: a header alone carries no message to process", STAGE_EXTRACT)
    msg = ident.message
    r = _R()
    body = r.f(_tree(ident.document), msg.root)
    if body is None:
        return Reject(FORMAT_ERROR, f"{msg.root} is missing", STAGE_EXTRACT)
    try:
        header = read_header(ident.header)
        short = msg.id[:8]
        out: CanonicalMessage
        if short in ("pacs.008", "pacs.009"):
            out = _payment(r, body, header, short)  # type: ignore[arg-type]
        elif short == "pacs.002":
            out = _status(r, body, header)
        elif short == "pacs.004":
            out = _return(r, body, header)
        elif short == "camt.056":
            out = _cancellation(r, body, header)
        elif short == "camt.029":
            out = _resolution(r, body, header)
        elif short == "camt.054":
            out = _notification(r, body, header)
        else:
            out = _reject(r, body, header)
    except (ValueError, InvalidOperation, ValidationError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Reject(FORMAT_ERROR, f"{msg.id}: {text}", STAGE_EXTRACT)
    return Ok(out)


def normalise(ident: Identified, side: Side) -> Outcome[CanonicalMessage]:
    """Validate ``ident`` against ``side``'s profile and usage rules; the canonical model or a Reject.

    ``Reject.stage`` is "schema" (profile XSD failed: answer admi.002), "extract" (no document or
    unreadable content: admi.002) or "rules" (usage rule broken: pacs.002 RJCT for payments).
    """
    from router.iso20022.rules import check
    from router.iso20022.schemas import validate_schemas, with_lines

    profile = PROFILE_OF_SIDE[side]
    issues = validate_schemas(ident, profile)
    if issues:
        return Reject(FORMAT_ERROR, "; ".join(str(i) for i in issues[:5]), STAGE_SCHEMA)
    found = extract(ident)
    if isinstance(found, Reject):
        return found
    broken = check(found.value, profile)
    if broken:
        return Reject(broken[0].code, "; ".join(str(i) for i in with_lines(ident, broken[:5])), STAGE_RULES)
    return found
