"""One transliterator (issue 11): the Latin name delivered to a CBPR+ correspondent is the name
screening matched on, for every Chinese personal name the tests and the simulators use."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pypinyin import Style, lazy_pinyin

from router.iso20022 import transliterate as tl
from router.screening.model import ListEntry, ListVersion, SanctionsList
from router.screening.normalise import tokens
from router.screening.screener import Screener
from router.screening.settings import ScreeningSettings
from router.screening.variants import CN_GIVEN, CN_SURNAMES

ROOT = Path(__file__).resolve().parents[2]
_QUOTED_HAN = re.compile(r"[\"']([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,4})[\"']")
# Compound surnames and surname readings the two old tables disagreed on, simplified and traditional.
DISAGREED = ("呼延灼", "百里奚", "万俟卨", "公冶长", "申屠嘉", "歐陽建國", "長孫無忌", "鍾離春", "單雄信",
             "區志明", "樂進", "獨孤信", "諸葛亮", "東方朔")


def chinese_test_names() -> list[str]:
    """Every quoted 2-4 character Chinese personal name in the tests, the router and the simulators."""
    found: set[str] = set(DISAGREED)
    for folder in ("tests", "router", "connectors"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(m for m in _QUOTED_HAN.findall(path.read_text(encoding="utf-8")) if tl.is_person_name(m))
    found.update(s + g for s in CN_SURNAMES for g in CN_GIVEN[:8])
    return sorted(found)


NAMES = chinese_test_names()


def test_the_scan_found_the_names_it_is_meant_to_cover() -> None:
    assert len(NAMES) > 400
    assert "李方伟" in NAMES and "申屠嘉" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_delivered_latin_name_is_the_name_screened(name: str) -> None:
    delivered = tl.name(name)  # what translate.party_to_cbpr puts in Nm
    assert delivered.isascii() and tl.is_finx(delivered)
    assert tokens(name) == tokens(delivered), f"{name}: delivered {delivered!r}, screened {tokens(name)}"


def test_screening_the_characters_matches_the_delivered_name_exactly() -> None:
    entries = tuple(ListEntry(uid=str(i), name=tl.name(n), kind="individual") for i, n in enumerate(DISAGREED))
    version = ListVersion("TEST", date(2024, 1, 1), "list", len(entries), "0" * 64)
    screener = Screener([SanctionsList(version, entries)], ScreeningSettings())
    for i, n in enumerate(DISAGREED):
        best = screener.screen_name(n)[0]
        assert (best.entry, best.matched, best.score) == (str(i), tl.name(n), 1.0)


def test_traditional_and_simplified_are_delivered_alike() -> None:
    assert tl.name("歐陽建國") == tl.name("欧阳建国") == "OUYANG JIANGUO"
    assert tl.name("長孫無忌") == "ZHANGSUN WUJI"
    assert tl.name("單雄信") == tl.name("单雄信") == "SHAN XIONGXIN"


def test_surname_table_holds_only_what_pypinyin_reads_otherwise() -> None:
    # pypinyin's phrase dictionary is preferred: an override it already agrees with is dead weight.
    for char, reading in tl.SURNAME_READINGS.items():
        assert lazy_pinyin(char, style=Style.NORMAL) != [reading], char
    for compound in tl.COMPOUND_SURNAMES:
        assert len(lazy_pinyin(compound, style=Style.NORMAL)) == 2, compound
