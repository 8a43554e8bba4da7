"""Usage rules an XSD cannot express."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router.iso20022 import examples as ex
from router.iso20022 import rules
from router.iso20022.model import Account, Agent, Party, PostalAddress

TX = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf"


def _paths(issues: list[rules.Issue]) -> dict[str, str]:
    return {i.path: i.code for i in issues}


def test_examples_follow_their_profiles() -> None:
    assert rules.check(ex.cips_pacs008(), "cips") == []
    assert rules.check(ex.cbpr_pacs008(), "cbpr") == []
    assert rules.check(ex.cbpr_pacs009(), "cbpr") == []


@pytest.mark.parametrize(("value", "ok"), [
    ("5c3b4a1e-9d2f-4c8b-a7e6-1f0d2c3b4a59", True),
    ("5C3B4A1E-9D2F-4C8B-A7E6-1F0D2C3B4A59", False),  # ISO pattern is lower case
    ("5c3b4a1e-9d2f-1c8b-a7e6-1f0d2c3b4a59", False),  # version 1, not 4
    ("5c3b4a1e-9d2f-4c8b-27e6-1f0d2c3b4a59", False),  # wrong variant
    ("not-a-uuid", False),
])
def test_uetr_must_be_uuid4(value: str, ok: bool) -> None:
    assert (rules.uetr(value, "/x") == []) is ok


def test_instr_id_over_16_and_end_to_end_over_35_break_cbpr() -> None:
    p = ex.cbpr_pacs008().model_copy(update={"instr_id": "A" * 17, "end_to_end_id": "B" * 36})
    found = _paths(rules.check(p, "cbpr"))
    assert found[f"{TX}/PmtId/InstrId"] == rules.CODE_CHARSET
    assert f"{TX}/PmtId/EndToEndId" in found
    assert rules.check(ex.cbpr_pacs008().model_copy(update={"instr_id": "A" * 16}), "cbpr") == []


@pytest.mark.parametrize("bad", ["/LEADING", "TRAILING/", "DOUBLE//SLASH", "UMLAUT-Ä", "李"])
def test_cbpr_identifiers_are_fin_x(bad: str) -> None:
    p = ex.cbpr_pacs008().model_copy(update={"end_to_end_id": bad})
    assert f"{TX}/PmtId/EndToEndId" in _paths(rules.check(p, "cbpr"))


def test_cbpr_names_must_be_fin_x_but_cips_allows_chinese() -> None:
    p = ex.cbpr_pacs008()
    chinese = p.model_copy(update={"creditor": p.creditor.model_copy(update={"name": "王小明"})})  # type: ignore[union-attr]
    assert f"{TX}/Cdtr/Nm" in _paths(rules.check(chinese, "cbpr"))
    assert rules.check(ex.cips_pacs008(), "cips") == []  # 李芳卫, 北京


def test_cbpr_parties_need_structured_address_with_town_and_country() -> None:
    p = ex.cbpr_pacs008()
    no_town = p.model_copy(update={"debtor": Party(name="ANNA", address=PostalAddress(country="DE"))})
    assert _paths(rules.check(no_town, "cbpr"))[f"{TX}/Dbtr/PstlAdr/TwnNm"] == rules.CODE_DEBTOR_ADDRESS
    no_addr = p.model_copy(update={"creditor": Party(name="WANG")})
    assert _paths(rules.check(no_addr, "cbpr"))[f"{TX}/Cdtr/PstlAdr"] == rules.CODE_CREDITOR_ADDRESS
    lines_only = p.model_copy(update={"creditor": Party(name="WANG", address=PostalAddress(lines=("SHANGHAI",)))})
    assert f"{TX}/Cdtr/PstlAdr/TwnNm" in _paths(rules.check(lines_only, "cbpr"))


def test_cbpr_agent_without_bic_needs_name_and_structured_address() -> None:
    p = ex.cbpr_pacs008().model_copy(update={"creditor_agent": Agent(member_id="021040078", clearing_system="USABA")})
    found = _paths(rules.check(p, "cbpr"))
    assert f"{TX}/CdtrAgt/FinInstnId/Nm" in found and f"{TX}/CdtrAgt/FinInstnId/PstlAdr" in found
    ok = p.model_copy(update={"creditor_agent": Agent(member_id="021040078", clearing_system="USABA", name="BANK B",
                                                      address=PostalAddress(town="NEW YORK", country="US"))})
    assert rules.check(ok, "cbpr") == []


@pytest.mark.parametrize(("bic", "ok"), [("ICBKCNBJ", True), ("ICBKCNBJXXX", True), ("ICBKCN2J", True),
                                         ("ICBKCN1J", False), ("ICBKCNB", False), ("1CBKCNBJ", False),
                                         ("ICBKCNBO", False),
                                         ("icbkcnbj", False), ("ICBKCNBJXX", False)])
def test_bic_format(bic: str, ok: bool) -> None:
    assert (rules.bic(bic, "/x") == []) is ok


def test_cips_side_agents_need_a_participant_id_or_bic_and_ids_are_checked() -> None:
    p = ex.cips_pacs008()
    assert f"{TX}/DbtrAgt/FinInstnId" in _paths(rules.check(p.model_copy(update={"debtor_agent": Agent(name="X")}),
                                                           "cips"))
    bad = p.model_copy(update={"debtor_agent": Agent(cips_id="ICBC-1")})
    assert _paths(rules.check(bad, "cips"))[f"{TX}/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"] == rules.CODE_AGENT


def test_cips_requires_purpose() -> None:
    assert _paths(rules.check(ex.cips_pacs008().model_copy(update={"purpose": None}), "cips"))[f"{TX}/Purp"] == "CH21"


@pytest.mark.parametrize(("amount", "ccy", "code"), [
    (Decimal("10.001"), "CNY", rules.CODE_AMOUNT),  # 3 decimals, CNY has 2
    (Decimal("100.5"), "JPY", rules.CODE_AMOUNT),  # JPY has none
    (Decimal("0"), "EUR", rules.CODE_AMOUNT),
    (Decimal("10"), "XYZ", rules.CODE_CURRENCY),
])
def test_currency_and_minor_units(amount: Decimal, ccy: str, code: str) -> None:
    p = ex.cbpr_pacs008().model_copy(update={"settlement_amount": amount, "currency": ccy})
    assert _paths(rules.check(p, "cbpr"))[f"{TX}/IntrBkSttlmAmt"] == code


def test_minor_units_allow_fewer_decimals_and_bhd_three() -> None:
    assert rules.currency_amount(Decimal("10.5"), "CNY", "/x") == []
    assert rules.currency_amount(Decimal("10.125"), "BHD", "/x") == []
    assert rules.currency_amount(Decimal("1000"), "JPY", "/x") == []


def test_iban_checksum() -> None:
    p = ex.cbpr_pacs008()
    bad = p.model_copy(update={"debtor_account": Account(id="DE89370400440532013001", kind="iban")})
    assert _paths(rules.check(bad, "cbpr"))[f"{TX}/DbtrAcct/Id/IBAN"] == rules.CODE_ACCOUNT
    assert rules.account(Account(id="GB33BUKB20201555555555", kind="iban"), "/x") == []


def test_ecny_wallet_format() -> None:
    assert rules.account(Account(id="0011234567890123", kind="ecny"), "/x") == []
    assert rules.account(Account(id="001123", kind="ecny"), "/x")[0].code == rules.CODE_ACCOUNT


def test_cbpr_header_needs_bics() -> None:
    p = ex.cips_pacs008()  # header From is a CIPS participant id only
    found = _paths(rules.check(p, "cbpr"))
    assert "/AppHdr/Fr/FIId/FinInstnId/BICFI" in found


def test_status_report_rules_check_original_uetr() -> None:
    s = ex.status_report("corr")
    bad = s.model_copy(update={"original": s.original.model_copy(update={"uetr": "nope"})})
    assert "/Document/FIToFIPmtStsRpt/TxInfAndSts/OrgnlUETR" in _paths(rules.check(bad, "cbpr"))
    assert rules.check(s, "cbpr") == []


def test_cbpr_names_may_use_the_extended_set_but_identifiers_may_not() -> None:
    p = ex.cbpr_pacs008()
    amp = p.model_copy(update={"creditor": p.creditor.model_copy(update={"name": "SMITH & SONS (UK) LTD"})})  # type: ignore[union-attr]
    assert rules.check(amp, "cbpr") == []
    assert f"{TX}/PmtId/EndToEndId" in _paths(rules.check(p.model_copy(update={"end_to_end_id": "A&B"}), "cbpr"))
