"""Name normalisation and Chinese-script transliteration."""

from __future__ import annotations

import pytest

from router.screening.normalise import cjk_to_pinyin, normalise, split_scripts, tokens


@pytest.mark.parametrize(("a", "b"), [
    ("José MÜLLER-Lüdenscheidt", "jose muller ludenscheidt"),
    ("Dr. Ayman AL-ZAWAHIRI", "Ayman al Zawahiri"),
    ("ZAWAHIRI, Ayman", "Ayman Zawahiri"),
    ("Sheikh Mohammed bin Rashid", "RASHID, Mohammed Bin"),
    ("Golden Lotus Shipping Co., Ltd.", "GOLDEN LOTUS SHIPPING"),
    ("CIMEX, S.A.", "Cimex"),
    ("Łukasz Żółć", "lukasz zolc"),
])
def test_equivalent_spellings_normalise_alike(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


def test_different_names_stay_different() -> None:
    assert normalise("Maria Garcia") != normalise("Mario Garcia")
    assert tokens("Jean-Pierre O'Neil") == ("jean", "pierre", "oneil")


def test_chinese_person_becomes_surname_plus_joined_given_name() -> None:
    assert cjk_to_pinyin("李方伟") == "li fangwei"
    assert tokens("李方伟") == ("li", "fangwei")
    assert normalise("李方伟") == normalise("LI, Fangwei")


def test_compound_and_heteronym_surnames() -> None:
    assert cjk_to_pinyin("欧阳建国") == "ouyang jianguo"
    assert cjk_to_pinyin("单雄信") == "shan xiongxin"  # 单 reads "dan" except as a surname
    assert cjk_to_pinyin("曾国藩") == "zeng guofan"


def test_chinese_company_drops_legal_form() -> None:
    assert tokens("金莲航运有限公司") == ("jinlianhangyun",)


def test_mixed_script_alias_splits_into_separate_names() -> None:
    assert split_scripts("Jin Tiesan (金铁三)") == ["Jin Tiesan", "金铁三"]
    assert normalise(split_scripts("Jin Tiesan (金铁三)")[1]) == normalise("Jin Tiesan")


def test_only_noise_keeps_something() -> None:
    assert tokens("Dr.") == ("dr",)
    assert tokens("   ") == ()
