"""XML -> canonical model, once per inbound message.

``extract`` reads whichever registered message an ``Identified`` holds into the canonical model
(no validation beyond what building the model needs). ``normalise`` is what ingest calls: the
side's profile XSD, then extraction, then the usage rules; any failure is a ``Reject`` whose
``stage`` says which step refused it ("schema" -> answer with admi.002, "rules" -> pacs.002 RJCT).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from pydantic import BaseModel, ValidationError

from router.iso20022.build import CIPS_SCHEME as CIPS_CLEARING
from router.iso20022.build import ECNY_SCHEME
from router.iso20022.model import (
    CONDITION_NS,
    CancellationRequest,
    CanonicalMessage,
    Header,
    MessageReject,
    Notification,
    Payment,
    Profile,
    Resolution,
    Return,
    Side,
    StatusReport,
)
from router.iso20022.registry import Identified
from router.iso20022.walk import ANY, Amt, ConditionBlock, Out, Skipped, Spec, Sub, Texts, read_element
from router.outcome import FORMAT_ERROR, Ok, Reject, Result

_El = etree._Element
STAGE_SCHEMA = "schema"
STAGE_EXTRACT = "extract"
STAGE_RULES = "rules"
PROFILE_OF_SIDE: dict[str, Profile] = {"cips": "cips", "corr": "cbpr"}
NOT_PROVIDED = "NOTPROVIDED"

# ---- the parts every message shares

_ADDRESS: Spec = {
    "StrtNm": "street", "BldgNb": "building_number", "BldgNm": "building_name", "PstCd": "post_code",
    "TwnNm": "town", "DstrctNm": "district", "CtrySubDvsn": "country_subdivision", "Ctry": "country",
    "AdrLine": Texts("lines"),
}
_FIN_INSTN: Spec = {
    "BICFI": "bic",
    "ClrSysMmbId": Sub("_member", {"ClrSysId": {"Cd": "system", "Prtry": "system"}, "MmbId": "id"}),
    "Nm": "name",
    "PstlAdr": Sub("address", _ADDRESS),
}


def _agent(d: Out) -> Out | None:
    """Agent fields from a FinInstnId; a CIPS member id becomes ``cips_id``, others keep their system."""
    fi: Out | None = d.get("_fi")
    if fi is None:
        return None
    member = fi.pop("_member", None)
    if member is not None:
        system, ident = member.get("system"), member.get("id")
        if system == CIPS_CLEARING:
            if ident is not None:
                fi["cips_id"] = ident
        else:
            if ident is not None:
                fi["member_id"] = ident
            if system is not None:
                fi["clearing_system"] = system
    return fi


_AGENT: Spec = {"FinInstnId": Sub("_fi", _FIN_INSTN)}


def agent(field: str, *, many: bool = False) -> Sub:
    return Sub(field, _AGENT, _agent, many=many)


def _account(d: Out) -> Out:
    iban, other = d.pop("_iban", None), d.pop("_other", None)
    scheme = d.pop("_scheme", None)
    if iban is not None:
        d["id"], d["kind"] = iban, "iban"
        return d
    if other is None:
        raise ValueError("Id/Othr/Id is missing")
    d["id"], d["kind"] = other, "ecny" if scheme == ECNY_SCHEME else "other"
    if scheme is not None:
        d["scheme"] = scheme
    return d


_ACCOUNT: Spec = {
    "Id": {"IBAN": "_iban", "Othr": {"Id": "_other", "SchmeNm": {"Prtry": "_scheme", "Cd": "_scheme"}}},
    "Ccy": "currency",
}
_OTHER_ID: Spec = {"Id": "id", "SchmeNm": {"Cd": "scheme", "Prtry": "_proprietary"}, "Issr": "issuer"}


def _other_id(d: Out) -> Out:
    prtry = d.pop("_proprietary", None)
    if prtry is not None and "scheme" not in d:
        d["scheme"], d["proprietary"] = prtry, True
    return d


_PARTY: Spec = {
    "Nm": "name", "PstlAdr": Sub("address", _ADDRESS),
    "Id": {"OrgId": {"AnyBIC": "bic", "LEI": "lei", "Othr": Sub("org_ids", _OTHER_ID, _other_id, many=True)},
           "PrvtId": {"DtAndPlcOfBirth": {"BirthDt": "birth_date", "PrvcOfBirth": "birth_province",
                                          "CityOfBirth": "birth_city", "CtryOfBirth": "birth_country"},
                      "Othr": Sub("private_ids", _OTHER_ID, _other_id, many=True)}},
    "CtryOfRes": "residence_country",
}


def _party(d: Out) -> Out:
    # xs:date may carry a zone ("1975-08-09+08:00"); a date of birth is the calendar day.
    born = d.get("birth_date")
    if isinstance(born, str) and len(born) > 10:
        d["birth_date"] = born[:10]
    return d



# What a status, return, cancellation or resolution says about the original payment: read into
# the transaction's dict under these keys, then moved into ``original`` by ``_original``.
_ORIGINAL_KEYS = ("msg_id", "msg_def_id", "instr_id", "end_to_end_id", "tx_id", "uetr", "amount", "currency",
                  "settlement_date")
_ORIGINAL: Spec = {
    "OrgnlGrpInf": {"OrgnlMsgId": "msg_id", "OrgnlMsgNmId": "msg_def_id"},
    "OrgnlInstrId": "instr_id", "OrgnlEndToEndId": "end_to_end_id", "OrgnlTxId": "tx_id", "OrgnlUETR": "uetr",
    "OrgnlIntrBkSttlmAmt": Amt("amount", "currency"), "OrgnlIntrBkSttlmDt": "settlement_date",
}


def _original(tx: Out) -> Out:
    o = {k: tx.pop(k) for k in _ORIGINAL_KEYS if k in tx}
    o.setdefault("msg_id", NOT_PROVIDED)
    o.setdefault("msg_def_id", NOT_PROVIDED)
    return o


def _who(d: Out) -> Out:
    """A header party: a financial institution, else an organisation's name and BIC."""
    fi = d.pop("_fi", None)
    return fi if fi is not None else d


_WHO: Spec = {"FIId": Sub("_fi", _AGENT, _agent), "OrgId": {"Nm": "name", "Id": {"OrgId": {"AnyBIC": "bic"}}}}
_HEADER: Spec = {
    "Fr": Sub("sender", _WHO, _who), "To": Sub("receiver", _WHO, _who), "BizMsgIdr": "biz_msg_id",
    "MsgDefIdr": "msg_def_id", "BizSvc": "biz_svc", "CreDt": "created",
}
_REASON: Spec = {"Rsn": {"Cd": "reason_code", "Prtry": "reason_code"}, "AddtlInf": "reason_text"}


def _header_fields(el: _El) -> Out:
    h: Out = {}
    read_element(el, _HEADER, h)
    h.setdefault("sender", {})
    h.setdefault("receiver", {})
    return h


def read_header(el: _El | None) -> Header | None:
    return None if el is None else Header.model_validate(_header_fields(el))


# ---- one spec per message (the element under Document), and the reshaping its model needs

_SETTLEMENT: Spec = {"SttlmMtd": "settlement_method", "ClrSys": {"Prtry": "clearing_system", "Cd": "clearing_system"}}
_PAYMENT_GROUP: Spec = {"MsgId": "msg_id", "CreDtTm": "created", "SttlmInf": _SETTLEMENT}
_PAYMENT_TX: Spec = {
    "PmtId": {"InstrId": "instr_id", "EndToEndId": "end_to_end_id", "TxId": "tx_id", "UETR": "uetr"},
    "PmtTpInf": {"CtgyPurp": {"Cd": "category_purpose"}, ANY: Skipped("not_carried", "PmtTpInf/")},
    "IntrBkSttlmAmt": Amt("settlement_amount", "currency"), "IntrBkSttlmDt": "settlement_date",
    "InstdAmt": Amt("instructed_amount", "instructed_currency"), "XchgRate": "exchange_rate",
    "ChrgBr": "charge_bearer",
    "InstgAgt": agent("instructing_agent"), "InstdAgt": agent("instructed_agent"),
    "IntrmyAgt1": agent("intermediary_agents", many=True), "IntrmyAgt2": agent("intermediary_agents", many=True),
    "IntrmyAgt3": agent("intermediary_agents", many=True),
    "DbtrAcct": Sub("debtor_account", _ACCOUNT, _account), "DbtrAgt": agent("debtor_agent"),
    "CdtrAgt": agent("creditor_agent"), "CdtrAcct": Sub("creditor_account", _ACCOUNT, _account),
    "InstrForCdtrAgt": Sub("creditor_agent_instructions", {"Cd": "code", "InstrInf": "text"}, many=True),
    "InstrForNxtAgt": Sub("next_agent_instructions", {"Cd": "code", "InstrInf": "text"}, many=True),
    "Purp": {"Cd": "purpose", "Prtry": "purpose"},
    "RmtInf": {"Ustrd": Texts("remittance"), ANY: Skipped("not_carried", "RmtInf/")},
    ANY: Skipped("not_carried"),
}
_PACS008: Spec = {"GrpHdr": _PAYMENT_GROUP, "CdtTrfTxInf": Sub("_tx", {
    **_PAYMENT_TX, "SplmtryData": ConditionBlock("_condition", CONDITION_NS),
    "Dbtr": Sub("debtor", _PARTY, _party), "Cdtr": Sub("creditor", _PARTY, _party),
    "UltmtDbtr": Sub("ultimate_debtor", _PARTY, _party), "UltmtCdtr": Sub("ultimate_creditor", _PARTY, _party)})}
# In pacs.009 the debtor and creditor are themselves financial institutions.
_PACS009: Spec = {"GrpHdr": _PAYMENT_GROUP, "CdtTrfTxInf": Sub("_tx", {
    **_PAYMENT_TX, "Dbtr": agent("debtor_agent"), "Cdtr": agent("creditor_agent")})}


def _payment(d: Out) -> Out:
    tx = d.pop("_tx", None)
    if tx is None:
        raise ValueError("CdtTrfTxInf is missing")
    d.update(tx)
    if "settlement_amount" not in d:
        raise ValueError("IntrBkSttlmAmt is missing")
    if "debtor_agent" not in d or "creditor_agent" not in d:
        raise ValueError("debtor and creditor agents must identify a financial institution")
    cond = d.pop("_condition", None)
    if cond is not None:
        d["condition"] = {"id": cond.get("Id"), "releasing_party": cond.get("RlsgPty"),
                          "expiry": cond.get("XpryDtTm")}
    return d


_AGENTS_OF_GROUP: Spec = {"InstgAgt": agent("_group_instructing"), "InstdAgt": agent("_group_instructed")}


def _agents(d: Out, tx: Out) -> None:
    """Instructing / instructed agent of the transaction, else of the group header."""
    for field in ("instructing_agent", "instructed_agent"):
        group = d.pop(f"_group_{field.split('_')[0]}", None)
        value = tx.pop(field, None) or group
        if value is not None:
            d[field] = value


_PACS002: Spec = {
    "GrpHdr": {"MsgId": "msg_id", "CreDtTm": "created", **_AGENTS_OF_GROUP},
    "OrgnlGrpInfAndSts": {"OrgnlMsgId": "_group_msg_id", "OrgnlMsgNmId": "_group_msg_def_id"},
    "TxInfAndSts": Sub("_tx", {
        **_ORIGINAL, "TxSts": "status", "StsRsnInf": _REASON,
        "InstgAgt": agent("instructing_agent"), "InstdAgt": agent("instructed_agent"),
        "OrgnlTxRef": {"IntrBkSttlmAmt": Amt("amount", "currency"), "IntrBkSttlmDt": "settlement_date"},
    }),
}


def _status(d: Out) -> Out:
    tx = d.pop("_tx", None)
    if tx is None:
        raise ValueError("TxInfAndSts is missing (group-level status reports are not supported)")
    group_msg, group_def = d.pop("_group_msg_id", None), d.pop("_group_msg_def_id", None)
    original = _original(tx)
    if original["msg_id"] == NOT_PROVIDED:  # the group's original, when the transaction names none
        original["msg_id"], original["msg_def_id"] = group_msg or NOT_PROVIDED, group_def or NOT_PROVIDED
    _agents(d, tx)
    d.update(tx)
    d["original"] = original
    return d


_PACS004: Spec = {
    "GrpHdr": {"MsgId": "msg_id", "CreDtTm": "created", "IntrBkSttlmDt": "_group_date",
               "SttlmInf": {"SttlmMtd": "settlement_method"}, **_AGENTS_OF_GROUP},
    "TxInf": Sub("_tx", {
        **_ORIGINAL, "RtrId": "rtr_id", "RtrdIntrBkSttlmAmt": Amt("returned_amount", "_returned_currency"),
        "IntrBkSttlmDt": "_date", "ChrgBr": "charge_bearer", "RtrRsnInf": _REASON,
        "InstgAgt": agent("instructing_agent"), "InstdAgt": agent("instructed_agent"),
    }),
}


def _return(d: Out) -> Out:
    tx = d.pop("_tx", None)
    if tx is None:
        raise ValueError("TxInf is missing")
    if "returned_amount" not in tx:
        raise ValueError("RtrdIntrBkSttlmAmt is missing")
    if "settlement_method" not in d:
        raise ValueError("SttlmInf/SttlmMtd is missing")
    original = _original(tx)
    tx["currency"] = tx.pop("_returned_currency")
    group_date, date = d.pop("_group_date", None), tx.pop("_date", None)
    if date or group_date:
        tx["settlement_date"] = date or group_date
    tx.setdefault("rtr_id", d.get("msg_id"))
    tx.setdefault("reason_code", "NARR")
    _agents(d, tx)
    d.update(tx)
    d["original"] = original
    return d


def _assigned(d: Out) -> Out:
    """An assignment party: its agent, else just its name."""
    a = d.pop("_agent", None)
    return a if a is not None else {"name": d.get("name")}


_PARTY_OF_ASSIGNMENT: Spec = {"Agt": agent("_agent"), "Pty": {"Nm": "name"}}
_ASSIGNMENT: Spec = {
    "Id": "assignment_id", "CreDtTm": "created",
    "Assgnr": Sub("assigner", _PARTY_OF_ASSIGNMENT, _assigned),
    "Assgne": Sub("assignee", _PARTY_OF_ASSIGNMENT, _assigned),
}
_CAMT056: Spec = {
    "Assgnmt": _ASSIGNMENT, "Case": {"Id": "case_id"},
    "Undrlyg": {"TxInf": Sub("_tx", {
        **_ORIGINAL, "CxlId": "cancellation_id", "Case": {"Id": "_case_id"}, "CxlRsnInf": _REASON})},
}


def _with_assignment(d: Out) -> Out:
    d.setdefault("assigner", {})
    d.setdefault("assignee", {})
    return d


def _cancellation(d: Out) -> Out:
    tx = d.pop("_tx", None)
    if tx is None:
        raise ValueError("Undrlyg/TxInf is missing")
    original = _original(tx)
    case = tx.pop("_case_id", None)
    if "case_id" not in d and case is not None:
        d["case_id"] = case
    tx.setdefault("reason_code", "NARR")
    d.update(tx)
    d["original"] = original
    return _with_assignment(d)


_CAMT029: Spec = {
    "Assgnmt": _ASSIGNMENT, "RslvdCase": {"Id": "case_id"}, "Sts": {"Conf": "_confirmation"},
    "CxlDtls": {"TxInfAndSts": Sub("_tx", {
        **_ORIGINAL, "TxCxlSts": "_tx_status",
        "CxlStsRsnInf": {"Rsn": {"Cd": "reason_code", "Prtry": "reason_code"}}})},
}
_TX_TO_CASE_STATUS = {"ACCR": "CNCL", "RJCR": "RJCR"}


def _resolution(d: Out) -> Out:
    tx = d.pop("_tx", None)
    if tx is None:
        raise ValueError("CxlDtls/TxInfAndSts is missing")
    conf, tx_status = d.pop("_confirmation", None), tx.pop("_tx_status", None)
    d["status"] = conf if conf in ("CNCL", "RJCR", "PDCR") else _TX_TO_CASE_STATUS.get(tx_status or "", "PDCR")
    d["original"] = _original(tx)
    d.update(tx)
    return _with_assignment(d)


def _entry(e: Out) -> Out:
    booked, booked_at = e.pop("_booked", None), e.pop("_booked_at", None)
    e["booking_date"] = booked if booked is not None else (
        datetime.fromisoformat(booked_at).date() if booked_at else None)
    e.update(e.pop("_details", {}).get("_tx", {}).get("_refs", {}))
    return e


_CAMT054: Spec = {
    "GrpHdr": {"MsgId": "msg_id", "CreDtTm": "created"},
    "Ntfctn": Sub("_nt", {
        "Id": "notification_id",
        "Acct": Sub("account", {**_ACCOUNT, "Svcr": agent("_owner")}, _account),
        "Ntry": Sub("entries", {
            "NtryRef": "entry_ref", "Amt": Amt("amount", "currency"), "CdtDbtInd": "credit_debit",
            "BookgDt": {"Dt": "_booked", "DtTm": "_booked_at"},
            "NtryDtls": Sub("_details", {"TxDtls": Sub("_tx", {"Refs": Sub("_refs", {
                "UETR": "uetr", "EndToEndId": "end_to_end_id", "InstrId": "instr_id"})})}),
        }, _entry, many=True),
    }),
}


def _notification(d: Out) -> Out:
    nt = d.pop("_nt", None)
    if nt is None or not nt.get("entries"):
        raise ValueError("Ntfctn/Ntry is missing")
    if "account" not in nt:
        raise ValueError("Ntfctn/Acct is required")
    owner = nt["account"].pop("_owner", None)
    if owner is not None:
        nt["account_owner"] = owner
    for e in nt["entries"]:
        if e["booking_date"] is None and d.get("created"):
            e["booking_date"] = datetime.fromisoformat(d["created"]).date()  # no BookgDt: the message's day
    d.update(nt)
    return d


_ADMI002: Spec = {
    "RltdRef": {"Ref": "reference"},
    "Rsn": {"RjctgPtyRsn": "reason", "RjctnDtTm": "created", "ErrLctn": "location", "RsnDesc": "description"},
}
_EPOCH = "1970-01-01T00:00:00+00:00"


def _reject(d: Out) -> Out:
    if "created" not in d:
        header = d.get("header")
        d["created"] = header["created"] if header and "created" in header else _EPOCH
    return d


@dataclass(frozen=True, slots=True)
class _Reader:
    spec: Spec
    shape: Callable[[Out], Out]
    model: type[BaseModel]
    kind: str | None = None  # the discriminator, when one model serves two messages


_READERS: dict[str, _Reader] = {
    "pacs.008": _Reader(_PACS008, _payment, Payment, "pacs.008"),
    "pacs.009": _Reader(_PACS009, _payment, Payment, "pacs.009"),
    "pacs.002": _Reader(_PACS002, _status, StatusReport),
    "pacs.004": _Reader(_PACS004, _return, Return),
    "camt.056": _Reader(_CAMT056, _cancellation, CancellationRequest),
    "camt.029": _Reader(_CAMT029, _resolution, Resolution),
    "camt.054": _Reader(_CAMT054, _notification, Notification),
    "admi.002": _Reader(_ADMI002, _reject, MessageReject),
}


# Where the model's required fields come from, so that a reject names the element, not the field.
_ELEMENT_OF = {
    "msg_id": "GrpHdr/MsgId", "created": "CreDtTm", "end_to_end_id": "PmtId/EndToEndId", "uetr": "PmtId/UETR",
    "currency": "Ccy", "settlement_method": "SttlmInf/SttlmMtd", "status": "TxSts", "assignment_id": "Assgnmt/Id",
    "notification_id": "Ntfctn/Id", "entries": "Ntfctn/Ntry", "credit_debit": "CdtDbtInd", "reference": "RltdRef/Ref",
    "reason": "Rsn/RjctgPtyRsn", "biz_msg_id": "AppHdr/BizMsgIdr", "msg_def_id": "MsgDefIdr",
    "settlement_amount": "IntrBkSttlmAmt", "instructed_amount": "InstdAmt", "exchange_rate": "XchgRate",
    "settlement_date": "IntrBkSttlmDt", "returned_amount": "RtrdIntrBkSttlmAmt",
}


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    where = "/".join(_ELEMENT_OF.get(p, p) for p in loc)
    if first["type"] == "missing":
        return f"{where} is missing"
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def extract(ident: Identified) -> Result[CanonicalMessage]:
    """The canonical model of ``ident``; a Reject when a field the model needs is missing or malformed."""
    if ident.document is None or ident.message is None:
        return Reject(FORMAT_ERROR, "no Document: a header alone carries no message to process", STAGE_EXTRACT)
    msg = ident.message
    # identify() made sure the Document holds exactly one element, the message's root.
    body = ident.document[0] if len(ident.document) else None
    if body is None or not len(body):
        return Reject(FORMAT_ERROR, f"{msg.root} is missing", STAGE_EXTRACT)
    reader = _READERS[msg.id[:8]]
    try:
        d: Out = {} if reader.kind is None else {"kind": reader.kind}
        if ident.header is not None:
            d["header"] = _header_fields(ident.header)
        read_element(body, reader.spec, d)
        out = reader.model.model_validate(reader.shape(d))
    except ValidationError as exc:
        return Reject(FORMAT_ERROR, f"{msg.id}: {_explain(exc)}", STAGE_EXTRACT)
    except ValueError as exc:
        return Reject(FORMAT_ERROR, f"{msg.id}: {exc}", STAGE_EXTRACT)
    return Ok(out)  # type: ignore[arg-type]


def normalise(ident: Identified, side: Side) -> Result[CanonicalMessage]:
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
