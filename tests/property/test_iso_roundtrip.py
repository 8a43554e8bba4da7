"""CIPS -> CBPR+ -> CIPS keeps UETR, EndToEndId, amount, currency, agents and accounts; every hop is
valid against its profile (and the official schema when ../shared is present)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.iso20022.directory import load_directory
from router.iso20022.inbound import normalise
from router.iso20022.model import Account, Agent, CanonicalMessage, Payment, Profile, Side
from router.iso20022.parser import parse_xml
from router.iso20022.registry import identify
from router.iso20022.schemas import validate_schemas
from router.iso20022.translate import to_cbpr, to_cips
from router.outcome import Ok

D = load_directory()
CHINESE_BANKS = [p for p in D.participants if p.cips_id and p.bic != "ROUTCNSH"]
FOREIGN_BICS = [p.bic for p in D.correspondents]
IBANS = ["DE89370400440532013000", "GB33BUKB20201555555555", "FR1420041010050500013M02606", None]
HAN = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗芳卫伟敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
FINX = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-?:().,'+ "
SHARED_XSD = Path(__file__).resolve().parents[3] / "shared" / "iso20022" / "xsd"

finx_id = st.text(alphabet=FINX.replace(" ", ""), min_size=1, max_size=35)
han_name = st.text(alphabet=HAN, min_size=2, max_size=4)
latin_name = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ ", min_size=2, max_size=40).map(str.strip).filter(bool)


@st.composite
def cips_payments(draw: st.DrawFn) -> Payment:
    bank = draw(st.sampled_from(CHINESE_BANKS))
    currency = draw(st.sampled_from(["CNY", "USD", "EUR", "JPY", "GBP"]))
    places = 0 if currency == "JPY" else 2
    cents = draw(st.integers(min_value=1, max_value=10**13))
    amount = Decimal(cents).scaleb(-places)
    wallet = None
    if bank.wallet_prefix and draw(st.booleans()):
        wallet = bank.wallet_prefix + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=13,
                                                            max_size=13)))
    iban = draw(st.sampled_from(IBANS))
    p = ex.cips_pacs008(
        uetr=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        amount=amount, currency=currency, debtor_name=draw(han_name | latin_name),
        creditor_name=draw(latin_name), debtor_agent=bank.cips_id or "", debtor_wallet=wallet,
        creditor_agent_bic=draw(st.sampled_from(FOREIGN_BICS)), creditor_iban=iban or "DE89370400440532013000",
        instr_id=draw(st.text(alphabet=FINX.replace(" ", "") + HAN, min_size=1, max_size=35)),
        end_to_end_id=draw(finx_id.filter(lambda s: not s.startswith("/"))),
        purpose=draw(st.sampled_from(["CGOD", "CSVC", "CSAL", "CINV", "CLON", "CINT", "CTRD", "CCSH"])),
    )
    if iban is None:
        p = p.model_copy(update={"creditor_account": Account(id=draw(st.text(alphabet="0123456789", min_size=5,
                                                                               max_size=34)))})
    return p


def _hop(raw: bytes, side: Side, profile: Profile) -> CanonicalMessage:
    ident = identify(parse_xml(raw, max_bytes=1 << 20).value).value  # type: ignore[union-attr]
    if SHARED_XSD.is_dir():
        assert validate_schemas(ident, "base", SHARED_XSD) == []
    out = normalise(ident, side)
    assert isinstance(out, Ok), out
    return out.value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cips_payments())
def test_cips_cbpr_cips_round_trip_keeps_what_matters(p: Payment) -> None:
    first = _hop(build_message(p, "cips"), "cips", "cips")
    assert first == p
    out = to_cbpr(first, D)
    assert isinstance(out, Ok), out
    cbpr = _hop(build_message(out.value.message, "cbpr"), "corr", "cbpr")
    assert isinstance(cbpr, Payment)
    assert cbpr.instr_id is not None and len(cbpr.instr_id) <= 16
    back = to_cips(cbpr, D)
    assert isinstance(back, Ok), back
    final = _hop(build_message(back.value.message, "cips"), "cips", "cips")
    assert isinstance(final, Payment)
    assert (final.uetr, final.end_to_end_id) == (p.uetr, p.end_to_end_id)
    assert (final.settlement_amount, final.currency) == (p.settlement_amount, p.currency)
    assert final.debtor_agent == p.debtor_agent and final.creditor_agent == p.creditor_agent
    assert final.debtor_account == p.debtor_account and final.creditor_account == p.creditor_account
    assert final.purpose == p.purpose


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CHINESE_BANKS), st.booleans())
def test_cbpr_to_cips_maps_every_chinese_bank_to_its_participant(bank: object, wallet: bool) -> None:
    from router.iso20022.directory import Participant

    assert isinstance(bank, Participant)
    p = ex.cbpr_pacs008(creditor_agent_bic=bank.bic,
                        creditor_wallet=(bank.wallet_prefix or "999") + "0000000000001" if wallet else None)
    out = to_cips(p, D)
    assert isinstance(out, Ok) and isinstance(out.value.message, Payment)
    m = out.value.message
    assert m.creditor_agent == Agent(cips_id=bank.cips_id)
    assert m.creditor_account is not None
    assert (m.creditor_account.kind == "ecny") == (wallet and bank.ecny_operator)
    assert _hop(build_message(m, "cips"), "cips", "cips") == m
