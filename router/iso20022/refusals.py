"""Answers to the sender of a message the router refuses: admi.002 or pacs.002 RJCT.

Unparseable, hostile or schema-invalid input gets an admi.002 message reject; a readable
payment that breaks a usage rule gets a pacs.002 with status RJCT and the rule's ISO reason
code. The reply follows the sender's profile (CIPS side or CBPR+), so its text is made FIN-X
safe for correspondents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from router.iso20022 import transliterate as tl
from router.iso20022.build import build_admi002, build_pacs002
from router.iso20022.inbound import STAGE_RULES, read_header
from router.iso20022.model import Agent, Header, OriginalRef, Payment, Profile
from router.iso20022.money import minor_units
from router.iso20022.registry import Identified
from router.iso20022.rules import UUID4
from router.iso20022.translate import derived_id
from router.outcome import Reject


@dataclass(frozen=True, slots=True)
class Reply:
    value: bytes
    message_id: str  # "admi.002.001.01" or "pacs.002.001.10"
    receiver: Agent | None


def _text(value: str, profile: Profile, limit: int) -> str:
    # Readable for a human, safe for the CBPR+ pattern: FIN-X after transliteration.
    return (tl.text(value, limit) if profile == "cbpr" else value[:limit]) or "NOTPROVIDED"


def _reply_header(router: Agent, to: Agent | None, msg_def: str, biz_id: str, now: datetime,
                  profile: Profile) -> Header | None:
    # A CBPR+ header addresses by BIC only; a sender we cannot address gets a bare Document.
    if to is None or (to.bic is None and (profile == "cbpr" or to.cips_id is None)):
        return None
    return Header(sender=router, receiver=to if profile == "cips" else Agent(bic=to.bic), biz_msg_id=biz_id,
                  msg_def_id=msg_def, created=now, biz_svc="swift.cbprplus.02" if profile == "cbpr" else "cips.xb.01")


def reply_for(
    reject: Reject,
    profile: Profile,
    *,
    router_bic: str,
    identified: Identified | None = None,
    payment: Payment | None = None,
    now: datetime | None = None,
) -> Reply:
    """The message that tells the sender why its input was refused."""
    at = now or datetime.now(UTC).replace(microsecond=0)  # the wire carries whole seconds
    router = Agent(bic=router_bic)
    sender: Agent | None = None
    reference = "NOTAVAILABLE"
    if identified is not None and identified.header is not None:
        try:
            h = read_header(identified.header)
        except Exception:
            h = None
        if h is not None:
            sender, reference = h.sender, h.biz_msg_id
    # A pacs.002 echoes the original amount in its currency's decimals, which an unknown currency
    # does not have (found by the hostile-traffic run): such a refusal is answered by admi.002.
    if (payment is not None and reject.stage == STAGE_RULES and UUID4.match(payment.uetr)
            and minor_units(payment.currency) is not None):
        to = sender or payment.instructing_agent or payment.debtor_agent
        biz = derived_id("RJ", payment.msg_id, payment.uetr, reject.code)
        original = OriginalRef(msg_id=payment.msg_id, msg_def_id=f"{payment.kind}.001.08",
                               instr_id=payment.instr_id, end_to_end_id=payment.end_to_end_id,
                               tx_id=payment.tx_id, uetr=payment.uetr, amount=payment.settlement_amount,
                               currency=payment.currency, settlement_date=payment.settlement_date)
        value = build_pacs002(original, "RJCT", reject.code, msg_id=biz, created=at,
                              header=(hdr := _reply_header(router, to, "pacs.002.001.10", biz, at, profile)),
                              reason_text=_text(reject.text, profile, 105), instructing_agent=router,
                              instructed_agent=to, profile=profile,
                              wrapper="corridor" if hdr is not None else "none")
        return Reply(value, "pacs.002.001.10", to)
    biz = derived_id("RJ", reference, reject.code, reject.text, uuid.uuid4().hex if reference == "NOTAVAILABLE"
                     else "")
    header = _reply_header(router, sender, "admi.002.001.01", biz, at, profile)
    value = build_admi002(
        _text(reference, profile, 35), reject.code, description=_text(reject.text, profile, 350),
        location=reject.stage, created=at, header=header, profile=profile,
        wrapper="corridor" if header is not None else "none",
    )
    return Reply(value, "admi.002.001.01", sender)
