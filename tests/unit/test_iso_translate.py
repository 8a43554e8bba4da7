"""CIPS <-> CBPR+ translation, participant directory and transliteration."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.iso20022 import examples as ex
from router.iso20022 import transliterate as tl
from router.iso20022.build import build_message
from router.iso20022.directory import load_directory, parse_directory
from router.iso20022.inbound import extract
from router.iso20022.model import Account, Agent, Party, Payment, PostalAddress
from router.iso20022.rules import check
from router.iso20022.schemas import validate_schemas
from router.iso20022.translate import derived_id, short_instr_id, to_cbpr, to_cips
from router.outcome import Ok, Reject
from tests.unit.test_iso_build import _ident

D = load_directory()
NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)


def _cbpr(p: Payment) -> tuple[Payment, dict[str, str], dict[str, object]]:
    out = to_cbpr(p, D, now=NOW)
    assert isinstance(out, Ok), out
    assert isinstance(out.value.message, Payment)
    return out.value.message, out.value.instr_id_map, {c.field: c for c in out.value.changes}


# ---- directory

def test_directory_has_the_big_chinese_banks_by_public_bic() -> None:
    for bic in ("ICBKCNBJ", "BKCHCNBJ", "PCBCCNBJ", "ABOCCNBJ", "COMMCNSH", "CMBCCNBS"):
        p = D.by_bic(bic)
        assert p is not None and p.cips_id is not None and len(p.cips_id) == 11
        assert D.by_cips(p.cips_id) == p
        assert D.by_bic(bic + "XXX") == p


def test_directory_knows_ecny_operators_by_wallet_prefix() -> None:
    op = D.wallet_operator("0011234567890123")
    assert op is not None and op.bic == "ICBKCNBJ" and op.ecny_operator
    assert D.wallet_operator("0081234567890123") is None  # 008: not an operator in the directory
    assert D.wallet_operator("12345") is None


def test_directory_rejects_malformed_cips_ids() -> None:
    with pytest.raises(ValueError, match="CIPS id"):
        parse_directory({"participants": [{"cips_id": "ICBC1", "bic": "ICBKCNBJ", "name": "x", "town": "y",
                                           "country": "CN"}]})


def test_directory_file_is_valid_json_with_router_entry() -> None:
    data = json.loads((Path(__file__).resolve().parents[2] / "router" / "data" / "participants.json").read_text())
    assert any(p["bic"] == "ROUTCNSH" for p in data["participants"])


# ---- transliteration

@pytest.mark.parametrize(("name", "latin"), [
    ("李芳卫", "LI FANGWEI"), ("王小明", "WANG XIAOMING"), ("欧阳娜娜", "OUYANG NANA"),
    ("单雄信", "SHAN XIONGXIN"), ("曾国藩", "ZENG GUOFAN"), ("张伟", "ZHANG WEI"),
])
def test_personal_names_surname_first_given_name_joined(name: str, latin: str) -> None:
    assert tl.name(name) == latin


def test_organisation_and_address_text_is_fin_x_and_deterministic() -> None:
    for text in ("上海锦华贸易有限公司", "北京市朝阳区建国门外大街１号", "发票 INV-2026-0042", "Müller & Söhne"):
        out = tl.text(text)
        assert out and tl.is_finx(out) and out == out.upper()
        assert tl.text(text) == out
    assert tl.text("发票 INV-2026-0042") == "FAPIAO INV-2026-0042"
    assert tl.text("Hans Becker GmbH") == "HANS BECKER GMBH"


def test_transliteration_respects_length_limits() -> None:
    assert len(tl.text("北京市朝阳区建国门外大街" * 10, 35)) <= 35


# ---- CIPS -> CBPR+

def test_cips_to_cbpr_rewrites_header_and_agents() -> None:
    p = ex.cips_pacs008()
    out, _, changes = _cbpr(p)
    assert out.header is not None
    assert out.header.sender.bic == "ROUTCNSHXXX" and out.header.receiver.bic == "NRDBDEFF"
    assert out.header.biz_svc == "swift.cbprplus.02" and out.header.msg_def_id == "pacs.008.001.08"
    assert out.header.biz_msg_id == out.msg_id != p.msg_id
    assert out.debtor_agent == Agent(bic="ICBKCNBJ")
    assert out.instructing_agent == Agent(bic="ROUTCNSHXXX") and out.instructed_agent == Agent(bic="NRDBDEFF")
    assert changes["CdtTrfTxInf/DbtrAgt"].after == "ICBKCNBJ"  # type: ignore[attr-defined]
    assert check(out, "cbpr") == []


def test_cips_to_cbpr_keeps_uetr_end_to_end_amount_and_accounts() -> None:
    p = ex.cips_pacs008()
    out, _, _ = _cbpr(p)
    assert (out.uetr, out.end_to_end_id) == (p.uetr, p.end_to_end_id)
    assert (out.settlement_amount, out.currency) == (p.settlement_amount, p.currency)
    assert out.debtor_account == p.debtor_account and out.creditor_account == p.creditor_account


def test_cips_to_cbpr_transliterates_and_keeps_original_script_off_the_wire() -> None:
    out, _, changes = _cbpr(ex.cips_pacs008())
    assert out.debtor is not None and out.debtor.address is not None
    assert out.debtor.name == "LI FANGWEI" and out.debtor.name_original == "李芳卫"
    assert out.debtor.address.town == "BEIJING" and out.debtor.address_original is not None
    assert out.debtor.address_original.town == "北京"
    assert changes["CdtTrfTxInf/Dbtr/Nm"].before == "李芳卫"  # type: ignore[attr-defined]
    from router.iso20022.build import build_message

    wire = build_message(out, "cbpr").decode()
    assert "李" not in wire and "北京" not in wire and "LI FANGWEI" in wire


def test_cips_to_cbpr_maps_purpose_charges_and_settlement() -> None:
    out, _, _ = _cbpr(ex.cips_pacs008(purpose="CSAL").model_copy(update={"charge_bearer": "SLEV"}))
    assert out.purpose == "SALA" and out.charge_bearer == "SHAR"
    assert out.settlement_method == "INDA" and out.clearing_system is None


def test_instr_id_shortened_deterministically_and_mapping_returned() -> None:
    p = ex.cips_pacs008(instr_id="CIPS20261102ICBC000000123")
    out, mapping, _ = _cbpr(p)
    assert out.instr_id is not None and len(out.instr_id) <= 16 and tl.is_finx(out.instr_id)
    assert mapping == {"CIPS20261102ICBC000000123": out.instr_id}
    assert _cbpr(p)[0].instr_id == out.instr_id  # deterministic
    other, _, _ = _cbpr(ex.cips_pacs008(instr_id="CIPS20261102ICBC000000124"))
    assert other.instr_id != out.instr_id
    short, mapping2, _ = _cbpr(ex.cips_pacs008(instr_id="SHORT1"))
    assert short.instr_id == "SHORT1" and mapping2 == {}


def test_short_instr_id_handles_non_latin() -> None:
    s = short_instr_id("指令编号二零二六一一零二")
    assert len(s) <= 16 and tl.is_finx(s)


def test_new_message_id_is_deterministic_per_input() -> None:
    a, _, _ = _cbpr(ex.cips_pacs008())
    b, _, _ = _cbpr(ex.cips_pacs008())
    c, _, _ = _cbpr(ex.cips_pacs008(uetr="11111111-2222-4333-8444-555555555555"))
    assert a.msg_id == b.msg_id != c.msg_id
    assert derived_id("RT", "x").startswith("RT") and len(derived_id("RT", "x")) == 32


def test_unknown_cips_participant_cannot_be_translated() -> None:
    out = to_cbpr(ex.cips_pacs008(debtor_agent="C5551234567"), D, now=NOW)
    assert isinstance(out, Reject) and out.code == "RC01" and "C5551234567" in out.text


def test_missing_town_cannot_go_to_cbpr() -> None:
    p = ex.cips_pacs008()
    assert p.debtor is not None and p.debtor.address is not None
    no_town = p.model_copy(update={"debtor": p.debtor.model_copy(update={
        "address": p.debtor.address.model_copy(update={"town": None})})})
    out = to_cbpr(no_town, D, now=NOW)
    assert isinstance(out, Reject) and "town" in out.text


def test_end_to_end_id_that_cannot_be_carried_is_refused() -> None:
    out = to_cbpr(ex.cips_pacs008(end_to_end_id="端到端-0001"), D, now=NOW)
    assert isinstance(out, Reject) and "EndToEndId" in out.text


# ---- CBPR+ -> CIPS

def test_cbpr_to_cips_maps_bics_to_participants_and_wallet_to_ecny() -> None:
    p = ex.cbpr_pacs008()
    out = to_cips(p, D, now=NOW)
    assert isinstance(out, Ok)
    m = out.value.message
    assert isinstance(m, Payment)
    assert m.creditor_agent == Agent(cips_id="C1021000012")  # ICBKCNBJ
    assert m.debtor_agent == Agent(bic="NRDBDEFF")  # foreign agents keep their BIC
    assert m.creditor_account == Account(id="0019876543210987", kind="ecny", scheme="ECNY")
    assert m.settlement_method == "CLRG" and m.clearing_system == "CIPS"
    assert m.purpose == "CSAL"  # SALA
    assert m.header is not None and m.header.receiver == Agent(cips_id="C1021000012")
    assert m.header.biz_svc == "cips.xb.01"
    assert (m.uetr, m.end_to_end_id, m.settlement_amount) == (p.uetr, p.end_to_end_id, p.settlement_amount)
    assert check(m, "cips") == []


def test_cbpr_to_cips_plain_account_stays_plain() -> None:
    p = ex.cbpr_pacs008(creditor_wallet=None)
    m = to_cips(p, D, now=NOW)
    assert isinstance(m, Ok) and isinstance(m.value.message, Payment)
    assert m.value.message.creditor_account == Account(id="6222020200998877665")


def test_wallet_of_another_operator_is_not_taken_for_ecny() -> None:
    # 0019... belongs to ICBC's wallet range; paid to Bank of China it is an ordinary account number.
    m = to_cips(ex.cbpr_pacs008(creditor_agent_bic="BKCHCNBJ"), D, now=NOW)
    assert isinstance(m, Ok) and isinstance(m.value.message, Payment)
    assert m.value.message.creditor_account is not None and m.value.message.creditor_account.kind == "other"


def test_cbpr_to_cips_defaults_purpose_when_none_given() -> None:
    m = to_cips(ex.cbpr_pacs008().model_copy(update={"purpose": None}), D, now=NOW)
    assert isinstance(m, Ok) and isinstance(m.value.message, Payment) and m.value.message.purpose == "CCSH"


def test_status_report_translation_rewrites_agents_and_header() -> None:
    out = to_cbpr(ex.status_report("cips", "RJCT", "AC04"), D, now=NOW)
    assert isinstance(out, Ok)
    m = out.value.message
    assert m.header is not None and m.header.sender.bic == "ROUTCNSHXXX"
    assert m.original.uetr == ex.original_ref("cips").uetr  # type: ignore[union-attr]
    assert check(m, "cbpr") == []


def test_status_report_can_be_addressed_to_the_original_sender() -> None:
    out = to_cbpr(ex.status_report("cips", "ACSC"), D, now=NOW, receiver=Agent(bic="NRDBDEFF"))
    assert isinstance(out, Ok)
    m = out.value.message
    assert m.header is not None and m.header.receiver == Agent(bic="NRDBDEFF")
    assert m.instructed_agent == Agent(bic="NRDBDEFF")  # type: ignore[union-attr]


# ---- ultimate parties (FATF R16 originator / beneficiary data travels with the payment)

def _with_ultimates() -> Payment:
    return ex.cips_pacs008().model_copy(update={
        "ultimate_debtor": Party(name="王小明", address=PostalAddress(town="上海", country="CN")),
        "ultimate_creditor": Party(name="Becker Holding AG", bic="BECKDEFFXXX"),
    })


def test_ultimate_parties_are_read_translated_and_written_both_ways() -> None:
    p = _with_ultimates()
    assert not check(p, "cips")
    found = extract(_ident(build_message(p, "cips")))
    assert isinstance(found, Ok) and found.value == p
    out, _, changes = _cbpr(p)
    assert out.ultimate_debtor is not None and out.ultimate_debtor.address is not None
    assert out.ultimate_debtor.name == "WANG XIAOMING" and out.ultimate_debtor.name_original == "王小明"
    assert out.ultimate_debtor.address.town == "SHANGHAI"
    assert out.ultimate_creditor == p.ultimate_creditor  # already FIN-X, no address needed
    assert "CdtTrfTxInf/UltmtDbtr/Nm" in changes
    assert not check(out, "cbpr")
    wire = build_message(out, "cbpr").decode()
    assert "<UltmtDbtr><Nm>WANG XIAOMING</Nm>" in wire and "王" not in wire
    assert "<UltmtCdtr><Nm>Becker Holding AG</Nm>" in wire
    back = to_cips(out, D, now=NOW)
    assert isinstance(back, Ok) and isinstance(back.value.message, Payment)
    assert back.value.message.ultimate_debtor is not None
    assert back.value.message.ultimate_debtor.name == "王小明"


def test_an_ultimate_party_without_a_name_breaks_the_rules() -> None:
    p = ex.cips_pacs008().model_copy(update={"ultimate_creditor": Party(bic="BECKDEFFXXX")})
    (issue,) = check(p, "cips")
    assert issue.path.endswith("/UltmtCdtr/Nm") and issue.code == "RR03"


def test_ultimate_parties_are_valid_against_both_profiles_and_the_official_schema(iso_xsd_dir: Path) -> None:
    cips = build_message(_with_ultimates(), "cips")
    cbpr = build_message(_cbpr(_with_ultimates())[0], "cbpr")
    assert validate_schemas(_ident(cips), "cips") == [] and validate_schemas(_ident(cbpr), "cbpr") == []
    assert validate_schemas(_ident(cips), "base", iso_xsd_dir) == []
    assert validate_schemas(_ident(cbpr), "base", iso_xsd_dir) == []


def test_agent_instructions_are_carried_and_put_in_fin_x(iso_xsd_dir: Path) -> None:
    from router.iso20022.model import Instruction

    p = ex.cips_pacs008().model_copy(update={
        "creditor_agent_instructions": (Instruction(code="PHOB", text="请致电 +49 69 1234"), Instruction(code="HOLD")),
        "next_agent_instructions": (Instruction(text="PAY VIA NOSTRO"),)})
    found = extract(_ident(build_message(p, "cips")))
    assert isinstance(found, Ok) and found.value == p
    out, _, changes = _cbpr(p)
    (phone, hold) = out.creditor_agent_instructions
    assert phone.code == "PHOB" and phone.text is not None and phone.text == "QING ZHI DIAN +49 69 1234"
    assert hold == Instruction(code="HOLD") and out.next_agent_instructions == p.next_agent_instructions
    assert "CdtTrfTxInf/InstrForCdtrAgt/InstrInf" in changes and not check(out, "cbpr")
    wire = build_message(out, "cbpr")
    assert b"<InstrForCdtrAgt><Cd>HOLD</Cd></InstrForCdtrAgt><InstrForNxtAgt><InstrInf>PAY VIA NOSTRO" in wire
    for raw, profile in ((build_message(p, "cips"), "cips"), (wire, "cbpr")):
        assert validate_schemas(_ident(raw), profile) == []  # type: ignore[arg-type]
        assert validate_schemas(_ident(raw), "base", iso_xsd_dir) == []
