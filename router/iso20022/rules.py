"""Usage rules an XSD cannot express, as pure checks on the canonical model.

Each check returns a list of ``Issue`` (element path, reason, ISO status reason code); empty means
the message follows the rule. ``check(message, profile)`` runs every rule that applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from router.iso20022.directory import WALLET_ID
from router.iso20022.model import (
    Account,
    Agent,
    CancellationRequest,
    CanonicalMessage,
    Header,
    Notification,
    OriginalRef,
    Party,
    Payment,
    PostalAddress,
    Profile,
    Resolution,
    Return,
    StatusReport,
)
from router.iso20022.money import minor_units
from router.iso20022.schemas import Issue
from router.iso20022.transliterate import is_finx, is_finx_extended

UUID4 = re.compile(r"^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$")
BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")
CIPS_ID = re.compile(r"^C[0-9]{10}$")
MAX_INSTR_ID = 16
MAX_END_TO_END_ID = 35

# ISO 20022 ExternalStatusReason1Code values these rules answer with.
CODE_CHARSET = "CH16"  # element content formally incorrect
CODE_MISSING = "CH21"  # required compulsory element missing
CODE_BIC = "RC01"
CODE_CURRENCY = "AM03"
CODE_AMOUNT = "AM12"
CODE_ACCOUNT = "AC01"  # incorrect account number
CODE_DEBTOR_ADDRESS = "RR02"  # missing debtor name or address
CODE_CREDITOR_ADDRESS = "RR03"  # missing creditor name or address
CODE_AGENT = "RC08"  # invalid clearing system member identifier


def uetr(value: str | None, path: str, required: bool = True) -> list[Issue]:
    if value is None:
        return [Issue(path, "UETR is mandatory", code=CODE_MISSING)] if required else []
    if not UUID4.match(value):
        return [Issue(path, f"{value!r} is not a lower-case UUID version 4", code=CODE_CHARSET)]
    return []


def bic(value: str | None, path: str) -> list[Issue]:
    if value is None:
        return []
    if not BIC.match(value):
        return [Issue(path, f"{value!r} is not a BIC (4 letters bank, 2 letters country, location, branch)",
                      code=CODE_BIC)]
    return []


def currency_amount(amount: object, code: str | None, path: str) -> list[Issue]:
    if not code:
        return [Issue(path, "currency is missing", code=CODE_CURRENCY)]
    exp = minor_units(code)
    if exp is None:
        return [Issue(path, f"{code!r} is not an active ISO 4217 currency", code=CODE_CURRENCY)]
    if not isinstance(amount, Decimal):
        return []
    if amount <= 0:
        return [Issue(path, f"amount {amount} must be positive", code=CODE_AMOUNT)]
    places = -int(amount.as_tuple().exponent)
    if places > exp:
        return [Issue(path, f"{amount} {code} has {places} decimals; {code} has {exp} minor units",
                      code=CODE_AMOUNT)]
    return []


def finx_id(value: str | None, path: str, max_len: int | None = None) -> list[Issue]:
    """CBPR+ identifiers: FIN-X characters, no leading / trailing '/', no '//', bounded length."""
    if value is None:
        return []
    out: list[Issue] = []
    if max_len is not None and len(value) > max_len:
        out.append(Issue(path, f"{len(value)} characters, at most {max_len} allowed", code=CODE_CHARSET))
    if not is_finx(value):
        out.append(Issue(path, f"{value!r} has characters outside the FIN-X set", code=CODE_CHARSET))
    elif value.startswith("/") or value.endswith("/") or "//" in value:
        out.append(Issue(path, f"{value!r} must not start or end with '/' or contain '//'", code=CODE_CHARSET))
    return out


def finx_text(value: str | None, path: str) -> list[Issue]:
    """Names, addresses, remittance: the CBPR+ extended FIN-X set (identifiers use the strict one)."""
    if value is None or is_finx_extended(value):
        return []
    return [Issue(path, f"{value!r} has characters outside the CBPR+ character set (transliterate)",
                  code=CODE_CHARSET)]


def address(a: PostalAddress | None, path: str, *, structured: bool, code: str, profile: Profile) -> list[Issue]:
    if a is None:
        return [Issue(path + "/PstlAdr", "a postal address is required", code=code)] if structured else []
    out: list[Issue] = []
    if structured and not a.town:
        out.append(Issue(path + "/PstlAdr/TwnNm", "structured address needs the town", code=code))
    if not a.country:
        out.append(Issue(path + "/PstlAdr/Ctry", "address needs the country", code=code))
    if profile == "cbpr":
        for field, tag in (("street", "StrtNm"), ("building_number", "BldgNb"), ("building_name", "BldgNm"),
                           ("post_code", "PstCd"), ("town", "TwnNm"), ("district", "DstrctNm"),
                           ("country_subdivision", "CtrySubDvsn")):
            out += finx_text(getattr(a, field), f"{path}/PstlAdr/{tag}")
        for i, line in enumerate(a.lines, start=1):
            out += finx_text(line, f"{path}/PstlAdr/AdrLine[{i}]")
    return out


def agent(a: Agent | None, path: str, profile: Profile) -> list[Issue]:
    if a is None:
        return []
    fi = path + "/FinInstnId"
    out = bic(a.bic, fi + "/BICFI")
    if a.cips_id is not None and not CIPS_ID.match(a.cips_id):
        out.append(Issue(fi + "/ClrSysMmbId/MmbId", f"{a.cips_id!r} is not a CIPS participant id (C + 10 digits)",
                         code=CODE_AGENT))
    if profile == "cbpr":
        if a.cips_id is not None:
            out.append(Issue(fi + "/ClrSysMmbId", "CIPS participant ids are not used on the CBPR+ side",
                             code=CODE_AGENT))
        if a.bic is None:
            if not a.name:
                out.append(Issue(fi + "/Nm", "an agent without BIC needs a name", code=CODE_BIC))
            out += address(a.address, fi, structured=True, code=CODE_BIC, profile=profile)
        out += finx_text(a.name, fi + "/Nm")
    elif a.bic is None and a.cips_id is None:
        out.append(Issue(fi, "a CIPS-side agent needs a CIPS participant id or a BIC", code=CODE_AGENT))
    return out


def party(p: Party | None, path: str, profile: Profile, code: str) -> list[Issue]:
    if p is None or not p.name:
        return [Issue(path + "/Nm", "name is required", code=code)]
    out = address(p.address, path, structured=profile == "cbpr", code=code, profile=profile)
    if profile == "cbpr":
        out += finx_text(p.name, path + "/Nm")
    out += bic(p.bic, path + "/Id/OrgId/AnyBIC")
    return out


def ultimate(p: Party | None, path: str, profile: Profile, code: str) -> list[Issue]:
    """An ultimate party is optional; when given it needs a name, and on CBPR+ FIN-X text."""
    if p is None:
        return []
    if not p.name:
        return [Issue(path + "/Nm", "an ultimate party needs a name", code=code)]
    out = address(p.address, path, structured=False, code=code, profile=profile) if p.address else []
    if profile == "cbpr":
        out += finx_text(p.name, path + "/Nm")
    return out + bic(p.bic, path + "/Id/OrgId/AnyBIC")


@lru_cache(maxsize=65536)
def iban_error(iban: str) -> str | None:
    """Why ``iban`` is not a valid IBAN (country format and checksum, by schwifty), or None.

    Cached: the same beneficiaries recur, and schwifty's check costs tens of microseconds.
    """
    try:
        IBAN(iban)
    except SchwiftyException as exc:
        return str(exc)
    return None


def account(a: Account | None, path: str) -> list[Issue]:
    if a is None:
        return []
    if a.kind == "iban":
        err = iban_error(a.id)
        if err is not None:
            return [Issue(path + "/Id/IBAN", f"invalid IBAN: {err}", code=CODE_ACCOUNT)]
    if a.kind == "ecny" and not WALLET_ID.match(a.id):
        return [Issue(path + "/Id/Othr/Id", f"{a.id!r} is not an e-CNY wallet id (16 digits)", code=CODE_ACCOUNT)]
    if a.currency and minor_units(a.currency) is None:
        return [Issue(path + "/Ccy", f"{a.currency!r} is not an ISO 4217 currency", code=CODE_CURRENCY)]
    return []


def header(h: Header | None, profile: Profile) -> list[Issue]:
    if h is None:
        return []
    out: list[Issue] = []
    for who, a in (("Fr", h.sender), ("To", h.receiver)):
        base = f"/AppHdr/{who}/FIId"
        out += bic(a.bic, base + "/FinInstnId/BICFI")
        if profile == "cbpr" and a.bic is None:
            out.append(Issue(base + "/FinInstnId/BICFI", "CBPR+ headers address parties by BIC", code=CODE_BIC))
        if profile == "cips" and a.bic is None and a.cips_id is None:
            out.append(Issue(base + "/FinInstnId", "needs a CIPS participant id or a BIC", code=CODE_AGENT))
    if profile == "cbpr":
        out += finx_id(h.biz_msg_id, "/AppHdr/BizMsgIdr")
    return out


def payment(p: Payment, profile: Profile) -> list[Issue]:
    root = "/Document/" + ("FIToFICstmrCdtTrf" if p.kind == "pacs.008" else "FICdtTrf")
    tx = root + "/CdtTrfTxInf"
    out = header(p.header, profile)
    out += uetr(p.uetr, tx + "/PmtId/UETR")
    out += currency_amount(p.settlement_amount, p.currency, tx + "/IntrBkSttlmAmt")
    if p.instructed_amount is not None:
        out += currency_amount(p.instructed_amount, p.instructed_currency, tx + "/InstdAmt")
    if profile == "cbpr":
        out += finx_id(p.msg_id, root + "/GrpHdr/MsgId")
        out += finx_id(p.instr_id, tx + "/PmtId/InstrId", MAX_INSTR_ID)
        out += finx_id(p.end_to_end_id, tx + "/PmtId/EndToEndId", MAX_END_TO_END_ID)
        out += finx_id(p.tx_id, tx + "/PmtId/TxId")
        for i, line in enumerate(p.remittance, start=1):
            out += finx_text(line, f"{tx}/RmtInf/Ustrd[{i}]")
        for tag, instructions in (("InstrForCdtrAgt", p.creditor_agent_instructions),
                                  ("InstrForNxtAgt", p.next_agent_instructions)):
            for i, instr in enumerate(instructions, start=1):
                out += finx_text(instr.text, f"{tx}/{tag}[{i}]/InstrInf")
    elif not p.purpose:
        out.append(Issue(tx + "/Purp", "the CIPS profile requires a purpose code", code=CODE_MISSING))
    for name, a in (("InstgAgt", p.instructing_agent), ("InstdAgt", p.instructed_agent),
                    ("DbtrAgt" if p.kind == "pacs.008" else "Dbtr", p.debtor_agent),
                    ("CdtrAgt" if p.kind == "pacs.008" else "Cdtr", p.creditor_agent)):
        out += agent(a, f"{tx}/{name}", profile)
    for i, a in enumerate(p.intermediary_agents, start=1):
        out += agent(a, f"{tx}/IntrmyAgt{i}", profile)
    if p.kind == "pacs.008":
        out += party(p.debtor, tx + "/Dbtr", profile, CODE_DEBTOR_ADDRESS)
        out += party(p.creditor, tx + "/Cdtr", profile, CODE_CREDITOR_ADDRESS)
        out += ultimate(p.ultimate_debtor, tx + "/UltmtDbtr", profile, CODE_DEBTOR_ADDRESS)
        out += ultimate(p.ultimate_creditor, tx + "/UltmtCdtr", profile, CODE_CREDITOR_ADDRESS)
    out += account(p.debtor_account, tx + "/DbtrAcct")
    out += account(p.creditor_account, tx + "/CdtrAcct")
    return out


def _original(o: OriginalRef, path: str, amount_path: str | None) -> list[Issue]:
    out = uetr(o.uetr, path + "/OrgnlUETR")
    if amount_path and o.amount is not None:
        out += currency_amount(o.amount, o.currency, f"{path}/{amount_path}")
    return out


def _agents(pairs: Iterable[tuple[str, Agent | None]], profile: Profile) -> list[Issue]:
    out: list[Issue] = []
    for path, a in pairs:
        out += agent(a, path, profile)
    return out


def check(msg: CanonicalMessage, profile: Profile) -> list[Issue]:
    """Every usage rule that applies to ``msg`` under ``profile``."""
    if isinstance(msg, Payment):
        return payment(msg, profile)
    out = header(msg.header, profile)
    if isinstance(msg, StatusReport):
        tx = "/Document/FIToFIPmtStsRpt/TxInfAndSts"
        out += _original(msg.original, tx, "OrgnlTxRef/IntrBkSttlmAmt")
        out += _agents(((tx + "/InstgAgt", msg.instructing_agent), (tx + "/InstdAgt", msg.instructed_agent)),
                       profile)
    elif isinstance(msg, Return):
        tx = "/Document/PmtRtr/TxInf"
        out += _original(msg.original, tx, "OrgnlIntrBkSttlmAmt")
        out += currency_amount(msg.returned_amount, msg.currency, tx + "/RtrdIntrBkSttlmAmt")
    elif isinstance(msg, CancellationRequest):
        tx = "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf"
        out += _original(msg.original, tx, "OrgnlIntrBkSttlmAmt")
        a = "/Document/FIToFIPmtCxlReq/Assgnmt"
        out += _agents(((a + "/Assgnr/Agt", msg.assigner), (a + "/Assgne/Agt", msg.assignee)), profile)
    elif isinstance(msg, Resolution):
        tx = "/Document/RsltnOfInvstgtn/CxlDtls/TxInfAndSts"
        out += _original(msg.original, tx, "OrgnlIntrBkSttlmAmt")
    elif isinstance(msg, Notification):
        for i, entry in enumerate(msg.entries, 1):
            e = "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry" + (f"[{i}]" if len(msg.entries) > 1 else "")
            out += currency_amount(entry.amount, entry.currency, e + "/Amt")
            out += uetr(entry.uetr, e + "/NtryDtls/TxDtls/Refs/UETR", required=False)
        out += account(msg.account, "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Acct")
    return out
