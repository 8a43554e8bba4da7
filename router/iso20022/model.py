"""The canonical model: one typed shape for every message, whichever side it came from.

Amounts are ``Decimal`` with an ISO 4217 currency. Agents carry a BIC and/or a CIPS participant
id. Parties keep the original-script name and address beside the wire form (``name_original``,
``address_original``) so the tracker can show what the customer wrote; builders for the CBPR+
side never put the original script on the wire.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Side = Literal["cips", "corr"]
Profile = Literal["cips", "cbpr"]
AccountKind = Literal["iban", "ecny", "other"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class PostalAddress(BaseModel):
    model_config = _FROZEN

    street: str | None = None
    building_number: str | None = None
    building_name: str | None = None
    post_code: str | None = None
    town: str | None = None
    district: str | None = None
    country_subdivision: str | None = None
    country: str | None = None
    lines: tuple[str, ...] = ()


class Agent(BaseModel):
    """A financial institution: BIC and/or CIPS participant id (or another clearing member id)."""

    model_config = _FROZEN

    bic: str | None = None
    cips_id: str | None = None
    member_id: str | None = None  # clearing member id of another system (e.g. USABA)
    clearing_system: str | None = None
    name: str | None = None
    name_original: str | None = None
    address: PostalAddress | None = None

    @property
    def key(self) -> str:
        return self.bic or self.cips_id or self.member_id or self.name or "?"


class Account(BaseModel):
    model_config = _FROZEN

    id: str
    kind: AccountKind = "other"
    scheme: str | None = None  # proprietary scheme name, e.g. "ECNY" for an e-CNY wallet
    currency: str | None = None


class PartyId(BaseModel):
    """A generic identification (``Othr``): a passport, national id, tax or company number."""

    model_config = _FROZEN

    id: str
    scheme: str | None = None  # SchmeNm Cd (e.g. NIDN, CCPT, TXID) or, if ``proprietary``, Prtry
    proprietary: bool = False
    issuer: str | None = None


class Party(BaseModel):
    model_config = _FROZEN

    name: str | None = None
    name_original: str | None = None
    address: PostalAddress | None = None
    address_original: PostalAddress | None = None
    bic: str | None = None  # AnyBIC of an organisation, if given
    # What the payment says to identify the party (``Id/OrgId`` or ``Id/PrvtId``, ``CtryOfRes``):
    # screening compares it with a listed person's date of birth, nationality and ID numbers.
    lei: str | None = None
    org_ids: tuple[PartyId, ...] = ()
    birth_date: date | None = None
    birth_province: str | None = None
    birth_city: str | None = None
    birth_country: str | None = None
    private_ids: tuple[PartyId, ...] = ()
    residence_country: str | None = None


class Instruction(BaseModel):
    """An instruction for the creditor agent (InstrForCdtrAgt) or the next agent (InstrForNxtAgt)."""

    model_config = _FROZEN

    code: str | None = None  # e.g. PHOB, TELB, HOLD, CHQB for the creditor agent; PHOA, TELA for the next
    text: str | None = None


class Header(BaseModel):
    """The head.001.001.02 business application header."""

    model_config = _FROZEN

    sender: Agent
    receiver: Agent
    biz_msg_id: str
    msg_def_id: str
    biz_svc: str | None = None
    created: datetime


CONDITION_NS = "urn:corridor-router:xsd:condition.001"


class Condition(BaseModel):
    """A programmable e-CNY payment's release condition (CIPS profile only, in ``SplmtryData``).

    The payment settles only when ``releasing_party`` signs an event for ``id`` before ``expiry``;
    see schemas/README.md ("Conditional payments") for the block's layout.
    """

    model_config = _FROZEN

    id: Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9._:-]+$")]
    releasing_party: Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9._:-]+$")]
    expiry: AwareDatetime


class Payment(BaseModel):
    """pacs.008 (customer credit transfer) or pacs.009 (FI credit transfer), one transaction."""

    model_config = _FROZEN

    kind: Literal["pacs.008", "pacs.009"] = "pacs.008"
    header: Header | None = None
    msg_id: str
    created: datetime
    instr_id: str | None = None
    end_to_end_id: str
    tx_id: str | None = None
    uetr: str
    settlement_amount: Decimal
    currency: str
    settlement_date: date | None = None
    settlement_method: str = "CLRG"
    clearing_system: str | None = None
    instructed_amount: Decimal | None = None
    instructed_currency: str | None = None
    exchange_rate: Decimal | None = None
    charge_bearer: str | None = None
    purpose: str | None = None
    category_purpose: str | None = None
    instructing_agent: Agent | None = None
    instructed_agent: Agent | None = None
    intermediary_agents: tuple[Agent, ...] = ()
    ultimate_debtor: Party | None = None  # on whose behalf the debtor pays (FATF R16 originator data)
    debtor: Party | None = None
    debtor_account: Account | None = None
    debtor_agent: Agent
    creditor_agent: Agent
    creditor: Party | None = None
    creditor_account: Account | None = None
    ultimate_creditor: Party | None = None  # for whose benefit the creditor is paid
    creditor_agent_instructions: tuple[Instruction, ...] = ()
    next_agent_instructions: tuple[Instruction, ...] = ()
    remittance: tuple[str, ...] = ()
    condition: Condition | None = None
    # Elements of the transaction this model does not carry (e.g. "RgltryRptg", "RmtInf/Strd"):
    # they are not forwarded, and the journey and the translation's change record say so.
    not_carried: tuple[str, ...] = ()


class OriginalRef(BaseModel):
    """What a status report, return or cancellation refers to."""

    model_config = _FROZEN

    msg_id: str
    msg_def_id: str
    instr_id: str | None = None
    end_to_end_id: str | None = None
    tx_id: str | None = None
    uetr: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    settlement_date: date | None = None


class StatusReport(BaseModel):
    """pacs.002: ACSC / ACCP / PDNG / RJCT with an ISO external status reason code."""

    model_config = _FROZEN

    kind: Literal["pacs.002"] = "pacs.002"
    header: Header | None = None
    msg_id: str
    created: datetime
    original: OriginalRef
    status: Literal["ACSC", "ACCP", "PDNG", "RJCT", "ACTC", "ACSP"]
    reason_code: str | None = None
    reason_text: str | None = None
    instructing_agent: Agent | None = None
    instructed_agent: Agent | None = None


class Return(BaseModel):
    """pacs.004 payment return."""

    model_config = _FROZEN

    kind: Literal["pacs.004"] = "pacs.004"
    header: Header | None = None
    msg_id: str
    created: datetime
    original: OriginalRef
    rtr_id: str
    returned_amount: Decimal
    currency: str
    settlement_date: date | None = None
    settlement_method: str = "CLRG"
    charge_bearer: str | None = None
    reason_code: str
    reason_text: str | None = None
    instructing_agent: Agent | None = None
    instructed_agent: Agent | None = None


class CancellationRequest(BaseModel):
    """camt.056 FI to FI payment cancellation request."""

    model_config = _FROZEN

    kind: Literal["camt.056"] = "camt.056"
    header: Header | None = None
    assignment_id: str
    created: datetime
    assigner: Agent
    assignee: Agent
    case_id: str | None = None
    cancellation_id: str | None = None
    original: OriginalRef
    reason_code: str
    reason_text: str | None = None


class Resolution(BaseModel):
    """camt.029 resolution of investigation (answer to a camt.056)."""

    model_config = _FROZEN

    kind: Literal["camt.029"] = "camt.029"
    header: Header | None = None
    assignment_id: str
    created: datetime
    assigner: Agent
    assignee: Agent
    case_id: str | None = None
    status: Literal["CNCL", "RJCR", "PDCR"]
    original: OriginalRef
    reason_code: str | None = None


class NotificationEntry(BaseModel):
    """One booked entry (``Ntry``) of a camt.054: an amount in or out of the notified account."""

    model_config = _FROZEN

    amount: Decimal
    currency: str
    credit_debit: Literal["CRDT", "DBIT"]
    booking_date: date
    # NtryRef: the entry's own reference, unique per booking, so that an owner can drop an entry
    # it has already booked whichever notification carried it.
    entry_ref: str | None = None
    uetr: str | None = None
    end_to_end_id: str | None = None
    instr_id: str | None = None


class Notification(BaseModel):
    """camt.054 debit / credit notification: the entries booked on one account (``Ntfctn``)."""

    model_config = _FROZEN

    kind: Literal["camt.054"] = "camt.054"
    header: Header | None = None
    msg_id: str
    created: datetime
    notification_id: str
    account: Account
    account_owner: Agent | None = None
    entries: tuple[NotificationEntry, ...] = Field(min_length=1)


class MessageReject(BaseModel):
    """admi.002 message reject: the answer to input that could not be parsed or validated."""

    model_config = _FROZEN

    kind: Literal["admi.002"] = "admi.002"
    header: Header | None = None
    reference: str
    reason: str
    created: datetime
    location: str | None = None
    description: str | None = None


CanonicalMessage = Annotated[
    Payment | StatusReport | Return | CancellationRequest | Resolution | Notification | MessageReject,
    Field(discriminator="kind"),
]
