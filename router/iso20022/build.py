"""Builders: canonical model -> ISO 20022 XML (AppHdr + Document in an envelope).

One builder per outbound message. Each writes exactly what the model holds, in schema order,
as text straight into one list of strings (every text escaped, nothing parsed, no node objects):
on the per-message path that is about six times faster than lxml ``SubElement`` + ``tostring``.
Every builder's output is checked against its profile and the official XSD in the tests. Which
profile the content follows is decided by translation before building; ``profile`` only labels
the envelope. Every builder returns UTF-8 bytes of a corridor envelope, a SWIFT envelope
(``wrapper="swift"``) or a bare Document (``wrapper="none"``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from router.iso20022.model import (
    CONDITION_NS,
    Account,
    Agent,
    CancellationRequest,
    Header,
    MessageReject,
    Notification,
    OriginalRef,
    Party,
    PartyId,
    Payment,
    PostalAddress,
    Profile,
    Resolution,
    Return,
    StatusReport,
)
from router.iso20022.money import wire
from router.iso20022.registry import CORRIDOR_ENVELOPE_NS, HEAD_NS, ISO_PREFIX, SWIFT_ENVELOPE_NS

Wrapper = Literal["corridor", "swift", "none"]
CIPS_SCHEME = "CIPS"
ECNY_SCHEME = "ECNY"
_XML_DECL = "<?xml version='1.0' encoding='UTF-8'?>\n"
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape(text: str) -> str:
    if _SPECIAL.search(text) is None:  # the common case: nothing to escape, one C-level scan
        return text
    if _NOT_XML_CHAR.search(text):
        raise ValueError(f"text {text[:40]!r} holds characters XML cannot carry")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr(value: str) -> str:
    return _escape(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def iso_datetime(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat(timespec="seconds")


class _W:
    """Writes a message as text, in document order, straight into a list of strings.

    ``open`` returns a mark that ``close`` uses to write an element that got no content as
    ``<Name/>``. Leaves are written whole; ``x`` skips empty values.
    """

    __slots__ = ("out",)

    def __init__(self, first: str = "") -> None:
        self.out: list[str] = [first] if first else []

    def open(self, name: str) -> int:
        self.out.append(f"<{name}>")
        return len(self.out)

    def close(self, name: str, mark: int) -> None:
        if len(self.out) == mark:
            self.out[-1] = f"<{name}/>"
        else:
            self.out.append(f"</{name}>")

    def v(self, name: str, text: str) -> None:
        self.out.append(f"<{name}>{_escape(text)}</{name}>")

    def x(self, name: str, text: str | None) -> None:
        if text:
            self.out.append(f"<{name}>{_escape(text)}</{name}>")

    def wrap(self, names: str, name: str, text: str) -> None:
        """A leaf inside a chain of containers, e.g. ``wrap("Purp", "Cd", code)``."""
        parts = names.split("/")
        self.out.append("".join(f"<{n}>" for n in parts) + f"<{name}>{_escape(text)}</{name}>"
                        + "".join(f"</{n}>" for n in reversed(parts)))

    def amt(self, name: str, amount: Decimal, ccy: str) -> None:
        self.out.append(f'<{name} Ccy="{_attr(ccy)}">{wire(amount, ccy)}</{name}>')

    def address(self, a: PostalAddress | None) -> None:
        if a is None:
            return
        m = self.open("PstlAdr")
        self.x("StrtNm", a.street)
        self.x("BldgNb", a.building_number)
        self.x("BldgNm", a.building_name)
        self.x("PstCd", a.post_code)
        self.x("TwnNm", a.town)
        self.x("DstrctNm", a.district)
        self.x("CtrySubDvsn", a.country_subdivision)
        self.x("Ctry", a.country)
        for line in a.lines[:7]:
            self.v("AdrLine", line)
        self.close("PstlAdr", m)

    def agent(self, name: str, a: Agent | None) -> None:
        if a is not None:
            self.out.append(_agent_xml(name, a))

    def party(self, name: str, p: Party | None) -> None:
        if p is None:
            return
        m = self.open(name)
        self.x("Nm", p.name)
        self.address(p.address)
        if p.bic or p.lei or p.org_ids:
            self.out.append("<Id><OrgId>")
            self.x("AnyBIC", p.bic)
            self.x("LEI", p.lei)
            self.other_ids(p.org_ids)
            self.out.append("</OrgId></Id>")
        elif p.private_ids or (p.birth_date and p.birth_city and p.birth_country):
            self.out.append("<Id><PrvtId>")
            # The schema needs date, city and country of birth together; the inbound schema
            # check already refused a message that had one without the others.
            if p.birth_date and p.birth_city and p.birth_country:
                self.out.append("<DtAndPlcOfBirth>")
                self.v("BirthDt", p.birth_date.isoformat())
                self.x("PrvcOfBirth", p.birth_province)
                self.v("CityOfBirth", p.birth_city)
                self.v("CtryOfBirth", p.birth_country)
                self.out.append("</DtAndPlcOfBirth>")
            self.other_ids(p.private_ids)
            self.out.append("</PrvtId></Id>")
        self.x("CtryOfRes", p.residence_country)
        self.close(name, m)

    def other_ids(self, ids: tuple[PartyId, ...]) -> None:
        for i in ids:
            self.out.append("<Othr>")
            self.v("Id", i.id)
            if i.scheme:
                self.wrap("SchmeNm", "Prtry" if i.proprietary else "Cd", i.scheme)
            self.x("Issr", i.issuer)
            self.out.append("</Othr>")

    def account(self, name: str, a: Account | None, *, close: bool = True) -> None:
        if a is None:
            return
        out = self.out
        out.append(f"<{name}><Id>")
        if a.kind == "iban":
            self.v("IBAN", a.id)
        else:
            out.append("<Othr>")
            self.v("Id", a.id)
            scheme = a.scheme or (ECNY_SCHEME if a.kind == "ecny" else None)
            if scheme:
                self.wrap("SchmeNm", "Prtry", scheme)
            out.append("</Othr>")
        out.append("</Id>")
        if a.currency:
            self.v("Ccy", a.currency)
        if close:
            out.append(f"</{name}>")

    def orig_group(self, o: OriginalRef, name: str = "OrgnlGrpInf") -> None:
        self.out.append(f"<{name}>")
        self.v("OrgnlMsgId", o.msg_id)
        self.v("OrgnlMsgNmId", o.msg_def_id)
        self.out.append(f"</{name}>")

    def bytes(self) -> bytes:
        return "".join(self.out).encode("utf-8")


@lru_cache(maxsize=4096)
def _agent_xml(name: str, a: Agent) -> str:
    """An agent element. Cached: agents are banks, a small set that recurs in every message."""
    w = _W()
    out = w.out
    out.append(f"<{name}><FinInstnId>")
    w.x("BICFI", a.bic)
    member, system = (a.cips_id, CIPS_SCHEME) if a.cips_id else (a.member_id, a.clearing_system)
    if member:
        out.append("<ClrSysMmbId>")
        if system:
            tag = "Prtry" if system == CIPS_SCHEME or len(system) > 5 else "Cd"
            out.append(f"<ClrSysId><{tag}>{_escape(system)}</{tag}></ClrSysId>")
        w.v("MmbId", member)
        out.append("</ClrSysMmbId>")
    w.x("Nm", a.name)
    w.address(a.address)
    if len(out) == 1:
        return f"<{name}><FinInstnId/></{name}>"
    return "".join(out) + f"</FinInstnId></{name}>"


def _head(w: _W, h: Header) -> None:
    w.out.append(f'<AppHdr xmlns="{HEAD_NS}"><Fr>')
    w.agent("FIId", h.sender)
    w.out.append("</Fr><To>")
    w.agent("FIId", h.receiver)
    w.out.append("</To>")
    w.v("BizMsgIdr", h.biz_msg_id)
    w.v("MsgDefIdr", h.msg_def_id)
    w.x("BizSvc", h.biz_svc)
    w.v("CreDt", iso_datetime(h.created))
    w.out.append("</AppHdr>")


def _start(header: Header | None, msg_def_id: str, root: str, profile: Profile, wrapper: Wrapper) -> _W:
    """Declaration, envelope and header, then the Document and message root opened."""
    w = _W(_XML_DECL)
    enveloped = wrapper != "none" and header is not None
    if enveloped:
        if wrapper == "swift":
            w.out.append(f'<Envelope xmlns="{SWIFT_ENVELOPE_NS}">')
        else:
            w.out.append(f'<Envelope xmlns="{CORRIDOR_ENVELOPE_NS}" profile="{_attr(profile)}">')
        assert header is not None
        _head(w, header)
    w.out.append(f'<Document xmlns="{ISO_PREFIX}{msg_def_id}"><{root}>')
    return w


def _finish(w: _W, root: str, header: Header | None, wrapper: Wrapper) -> bytes:
    w.out.append(f"</{root}></Document>")
    if wrapper != "none" and header is not None:
        w.out.append("</Envelope>")
    return w.bytes()


def _settlement(w: _W, method: str, clearing_system: str | None) -> None:
    w.out.append("<SttlmInf>")
    w.v("SttlmMtd", method)
    if clearing_system and method == "CLRG":
        w.wrap("ClrSys", "Prtry", clearing_system)
    w.out.append("</SttlmInf>")


def _group_start(w: _W, msg_id: str, created: datetime) -> None:
    """The group header's opening: ``<GrpHdr>``, message id, creation time (the caller closes it)."""
    w.out.append("<GrpHdr>")
    w.v("MsgId", msg_id)
    w.v("CreDtTm", iso_datetime(created))


def _agent_chain(w: _W, p: Payment) -> None:
    w.agent("InstgAgt", p.instructing_agent)
    w.agent("InstdAgt", p.instructed_agent)
    for i, a in enumerate(p.intermediary_agents[:3], start=1):
        w.agent(f"IntrmyAgt{i}", a)


def _pmt_id(w: _W, p: Payment) -> None:
    w.out.append("<PmtId>")
    w.x("InstrId", p.instr_id)
    w.v("EndToEndId", p.end_to_end_id)
    w.x("TxId", p.tx_id)
    w.v("UETR", p.uetr)
    w.out.append("</PmtId>")


def _group_header(w: _W, p: Payment) -> None:
    _group_start(w, p.msg_id, p.created)
    w.out.append("<NbOfTxs>1</NbOfTxs>")
    _settlement(w, p.settlement_method, p.clearing_system)
    w.out.append("</GrpHdr>")


def _instructions(w: _W, p: Payment) -> None:
    for name, instructions in (("InstrForCdtrAgt", p.creditor_agent_instructions),
                               ("InstrForNxtAgt", p.next_agent_instructions)):
        for i in instructions:
            m = w.open(name)
            w.x("Cd", i.code)
            w.x("InstrInf", i.text)
            w.close(name, m)


def _purpose_and_remittance(w: _W, p: Payment, profile: Profile) -> None:
    _instructions(w, p)
    if p.purpose:
        # CIPS business types are proprietary codes; CBPR+ carries ISO ExternalPurpose1Code.
        w.wrap("Purp", "Prtry" if profile == "cips" else "Cd", p.purpose)
    if p.remittance:
        w.out.append("<RmtInf>")
        for line in p.remittance:
            w.v("Ustrd", line)
        w.out.append("</RmtInf>")
    if p.condition is not None and profile == "cips":
        # The condition exists on the CIPS side only: the CBPR+ profile forbids SplmtryData.
        c = p.condition
        w.out.append(f'<SplmtryData><Envlp><Cond xmlns="{CONDITION_NS}">')
        w.v("Id", c.id)
        w.v("RlsgPty", c.releasing_party)
        w.v("XpryDtTm", iso_datetime(c.expiry))
        w.out.append("</Cond></Envlp></SplmtryData>")


def _settlement_amount_and_date(w: _W, p: Payment) -> None:
    w.amt("IntrBkSttlmAmt", p.settlement_amount, p.currency)
    if p.settlement_date:
        w.v("IntrBkSttlmDt", p.settlement_date.isoformat())


def build_pacs008(p: Payment, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    root = "FIToFICstmrCdtTrf"
    w = _start(p.header, "pacs.008.001.08", root, profile, wrapper)
    _group_header(w, p)
    w.out.append("<CdtTrfTxInf>")
    _pmt_id(w, p)
    if p.category_purpose:
        w.wrap("PmtTpInf/CtgyPurp", "Cd", p.category_purpose)
    _settlement_amount_and_date(w, p)
    if p.instructed_amount is not None and p.instructed_currency:
        w.amt("InstdAmt", p.instructed_amount, p.instructed_currency)
    if p.exchange_rate is not None:
        w.v("XchgRate", format(p.exchange_rate, "f"))
    w.v("ChrgBr", p.charge_bearer or "SHAR")
    _agent_chain(w, p)
    w.party("UltmtDbtr", p.ultimate_debtor)
    w.party("Dbtr", p.debtor or Party())
    w.account("DbtrAcct", p.debtor_account)
    w.agent("DbtrAgt", p.debtor_agent)
    w.agent("CdtrAgt", p.creditor_agent)
    w.party("Cdtr", p.creditor or Party())
    w.account("CdtrAcct", p.creditor_account)
    w.party("UltmtCdtr", p.ultimate_creditor)
    _purpose_and_remittance(w, p, profile)
    w.out.append("</CdtTrfTxInf>")
    return _finish(w, root, p.header, wrapper)


def build_pacs009(p: Payment, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    root = "FICdtTrf"
    w = _start(p.header, "pacs.009.001.08", root, profile, wrapper)
    _group_header(w, p)
    w.out.append("<CdtTrfTxInf>")
    _pmt_id(w, p)
    _settlement_amount_and_date(w, p)
    _agent_chain(w, p)
    w.agent("Dbtr", p.debtor_agent)
    w.account("DbtrAcct", p.debtor_account)
    w.agent("Cdtr", p.creditor_agent)
    w.account("CdtrAcct", p.creditor_account)
    _purpose_and_remittance(w, p, profile)
    w.out.append("</CdtTrfTxInf>")
    return _finish(w, root, p.header, wrapper)


def build_payment(p: Payment, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    return (build_pacs008 if p.kind == "pacs.008" else build_pacs009)(p, profile, wrapper)


def _orig_refs(w: _W, o: OriginalRef) -> None:
    w.x("OrgnlInstrId", o.instr_id)
    w.x("OrgnlEndToEndId", o.end_to_end_id)
    w.x("OrgnlTxId", o.tx_id)
    w.x("OrgnlUETR", o.uetr)


def _original_amount_and_date(w: _W, o: OriginalRef) -> None:
    if o.amount is not None and o.currency:
        w.amt("OrgnlIntrBkSttlmAmt", o.amount, o.currency)
    if o.settlement_date:
        w.v("OrgnlIntrBkSttlmDt", o.settlement_date.isoformat())


def _reason(w: _W, container: str, code: str | None, text: str | None = None) -> None:
    w.out.append(f"<{container}>")
    if code:
        w.wrap("Rsn", "Cd", code)
    if text:
        w.v("AddtlInf", text[:105])
    w.out.append(f"</{container}>")


def build_pacs002(
    original: StatusReport | OriginalRef,
    status: str | None = None,
    reason_code: str | None = None,
    *,
    header: Header | None = None,
    msg_id: str | None = None,
    created: datetime | None = None,
    reason_text: str | None = None,
    instructing_agent: Agent | None = None,
    instructed_agent: Agent | None = None,
    profile: Profile = "cbpr",
    wrapper: Wrapper = "corridor",
) -> bytes:
    """pacs.002 for one transaction. Pass a ``StatusReport``, or the original's reference + status."""
    if isinstance(original, StatusReport):
        r = original
    else:
        if status is None or msg_id is None:
            raise ValueError("build_pacs002 needs status and msg_id when given an OriginalRef")
        r = StatusReport(header=header, msg_id=msg_id, created=created or datetime.now(UTC), original=original,
                         status=status,
                         reason_code=reason_code, reason_text=reason_text,
                         instructing_agent=instructing_agent, instructed_agent=instructed_agent)
    root = "FIToFIPmtStsRpt"
    w = _start(r.header, "pacs.002.001.10", root, profile, wrapper)
    _group_start(w, r.msg_id, r.created)
    w.out.append("</GrpHdr><TxInfAndSts>")
    w.orig_group(r.original)
    _orig_refs(w, r.original)
    w.v("TxSts", r.status)
    if r.reason_code or r.reason_text:
        _reason(w, "StsRsnInf", r.reason_code, r.reason_text)
    w.agent("InstgAgt", r.instructing_agent)
    w.agent("InstdAgt", r.instructed_agent)
    if r.original.amount is not None and r.original.currency:
        w.out.append("<OrgnlTxRef>")
        w.amt("IntrBkSttlmAmt", r.original.amount, r.original.currency)
        if r.original.settlement_date:
            w.v("IntrBkSttlmDt", r.original.settlement_date.isoformat())
        w.out.append("</OrgnlTxRef>")
    w.out.append("</TxInfAndSts>")
    return _finish(w, root, r.header, wrapper)


def build_pacs004(r: Return, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    root = "PmtRtr"
    w = _start(r.header, "pacs.004.001.09", root, profile, wrapper)
    _group_start(w, r.msg_id, r.created)
    w.out.append("<NbOfTxs>1</NbOfTxs>")
    _settlement(w, r.settlement_method, CIPS_SCHEME if r.settlement_method == "CLRG" else None)
    w.out.append("</GrpHdr><TxInf>")
    w.v("RtrId", r.rtr_id)
    w.orig_group(r.original)
    _orig_refs(w, r.original)
    _original_amount_and_date(w, r.original)
    w.amt("RtrdIntrBkSttlmAmt", r.returned_amount, r.currency)
    if r.settlement_date:
        w.v("IntrBkSttlmDt", r.settlement_date.isoformat())
    w.x("ChrgBr", r.charge_bearer)
    w.agent("InstgAgt", r.instructing_agent)
    w.agent("InstdAgt", r.instructed_agent)
    _reason(w, "RtrRsnInf", r.reason_code, r.reason_text)
    w.out.append("</TxInf>")
    return _finish(w, root, r.header, wrapper)


def _assignment(w: _W, ident: str, assigner: Agent, assignee: Agent, created: datetime) -> None:
    w.out.append("<Assgnmt>")
    w.v("Id", ident)
    w.out.append("<Assgnr>")
    w.agent("Agt", assigner)
    w.out.append("</Assgnr><Assgne>")
    w.agent("Agt", assignee)
    w.out.append("</Assgne>")
    w.v("CreDtTm", iso_datetime(created))
    w.out.append("</Assgnmt>")


def _case(w: _W, name: str, case_id: str | None, creator: Agent) -> None:
    if case_id:
        w.out.append(f"<{name}>")
        w.v("Id", case_id)
        w.out.append("<Cretr>")
        w.agent("Agt", creator)
        w.out.append(f"</Cretr></{name}>")


def build_camt056(c: CancellationRequest, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    root = "FIToFIPmtCxlReq"
    w = _start(c.header, "camt.056.001.08", root, profile, wrapper)
    _assignment(w, c.assignment_id, c.assigner, c.assignee, c.created)
    _case(w, "Case", c.case_id, c.assigner)
    w.out.append("<Undrlyg><TxInf>")
    w.x("CxlId", c.cancellation_id)
    w.orig_group(c.original)
    _orig_refs(w, c.original)
    _original_amount_and_date(w, c.original)
    _reason(w, "CxlRsnInf", c.reason_code, c.reason_text)
    w.out.append("</TxInf></Undrlyg>")
    return _finish(w, root, c.header, wrapper)


_TX_CXL_STATUS = {"CNCL": "ACCR", "RJCR": "RJCR", "PDCR": "PDCR"}


def build_camt029(r: Resolution, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    root = "RsltnOfInvstgtn"
    w = _start(r.header, "camt.029.001.09", root, profile, wrapper)
    _assignment(w, r.assignment_id, r.assigner, r.assignee, r.created)
    _case(w, "RslvdCase", r.case_id, r.assignee)
    w.wrap("Sts", "Conf", r.status)
    w.out.append("<CxlDtls><TxInfAndSts>")
    w.orig_group(r.original)
    _orig_refs(w, r.original)
    w.v("TxCxlSts", _TX_CXL_STATUS[r.status])
    if r.reason_code:
        w.wrap("CxlStsRsnInf/Rsn", "Cd", r.reason_code)
    _original_amount_and_date(w, r.original)
    w.out.append("</TxInfAndSts></CxlDtls>")
    return _finish(w, root, r.header, wrapper)


def build_camt054(n: Notification, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    root = "BkToCstmrDbtCdtNtfctn"
    w = _start(n.header, "camt.054.001.08", root, profile, wrapper)
    _group_start(w, n.msg_id, n.created)
    w.out.append("</GrpHdr><Ntfctn>")
    w.v("Id", n.notification_id)
    w.account("Acct", n.account, close=False)
    w.agent("Svcr", n.account_owner)
    w.out.append("</Acct>")
    for e in n.entries:
        w.out.append("<Ntry>")
        w.x("NtryRef", e.entry_ref)
        w.amt("Amt", e.amount, e.currency)
        w.v("CdtDbtInd", e.credit_debit)
        w.out.append("<Sts><Cd>BOOK</Cd></Sts>")
        w.wrap("BookgDt", "Dt", e.booking_date.isoformat())
        family = "RCDT" if e.credit_debit == "CRDT" else "ICDT"
        w.out.append(f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn>"
                     "</BkTxCd>")
        if e.uetr or e.end_to_end_id or e.instr_id:
            w.out.append("<NtryDtls><TxDtls><Refs>")
            w.x("InstrId", e.instr_id)
            w.x("EndToEndId", e.end_to_end_id)
            w.x("UETR", e.uetr)
            w.out.append("</Refs></TxDtls></NtryDtls>")
        w.out.append("</Ntry>")
    w.out.append("</Ntfctn>")
    return _finish(w, root, n.header, wrapper)


def build_admi002(
    reference: str,
    reason: str,
    *,
    description: str | None = None,
    location: str | None = None,
    header: Header | None = None,
    created: datetime | None = None,
    profile: Profile = "cbpr",
    wrapper: Wrapper = "corridor",
) -> bytes:
    """admi.002 message reject. ``reference`` is the rejected message's id (or "NOTAVAILABLE")."""
    r = MessageReject(header=header, reference=reference[:35] or "NOTAVAILABLE", reason=reason[:35],
                      created=created or datetime.now(UTC), location=location, description=description)
    root = "admi.002.001.01"
    w = _start(r.header, "admi.002.001.01", root, profile, wrapper)
    w.wrap("RltdRef", "Ref", r.reference)
    w.out.append("<Rsn>")
    w.v("RjctgPtyRsn", r.reason)
    w.v("RjctnDtTm", iso_datetime(r.created))
    w.x("ErrLctn", (r.location or "")[:350] or None)
    w.x("RsnDesc", (r.description or "")[:350] or None)
    w.out.append("</Rsn>")
    return _finish(w, root, r.header, wrapper)


def build_message(msg: object, profile: Profile, wrapper: Wrapper = "corridor") -> bytes:
    """Build whichever canonical message ``msg`` is."""
    if isinstance(msg, Payment):
        return build_payment(msg, profile, wrapper)
    if isinstance(msg, StatusReport):
        return build_pacs002(msg, profile=profile, wrapper=wrapper)
    if isinstance(msg, Return):
        return build_pacs004(msg, profile, wrapper)
    if isinstance(msg, CancellationRequest):
        return build_camt056(msg, profile, wrapper)
    if isinstance(msg, Resolution):
        return build_camt029(msg, profile, wrapper)
    if isinstance(msg, Notification):
        return build_camt054(msg, profile, wrapper)
    if isinstance(msg, MessageReject):
        return build_admi002(msg.reference, msg.reason, description=msg.description, location=msg.location,
                             header=msg.header, created=msg.created, profile=profile, wrapper=wrapper)
    raise TypeError(f"no builder for {type(msg).__name__}")


