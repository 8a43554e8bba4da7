"""Chinese script -> the CBPR+ FIN-X Latin set, deterministically (pypinyin, no tone marks).

Personal names come out surname first, given name joined: "李芳卫" -> "LI FANGWEI" (the form
with which screening matched Chinese-script list names best: surname + joined given name found
every test name, one token per syllable far fewer). Screening reads names with this same module.
Other text is cut into words (pypinyin's mmseg) and each word's syllables joined. Anything else
is folded to ASCII and dropped if not in FIN-X.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import opencc
from pypinyin import Style, lazy_pinyin
from pypinyin.seg.mmseg import seg

FINX = re.compile(r"^[0-9A-Za-z/\-?:().,'+ ]*$")
# CBPR+ allows a wider set in names, addresses and remittance text than in identifiers.
FINX_EXTENDED = re.compile(r"^[0-9A-Za-z/\-?:().,'+ !#$%&*=^_`{|}~\";<>@\[\\\]]*$")
_NOT_FINX = re.compile(r"[^0-9A-Za-z/\-?:().,'+ ]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")

# Two-character surnames, so that the given name is not split wrongly: the union of the tables
# translation and screening used to keep apart (issue 11), plus a few from the Hundred Family
# Surnames that pypinyin reads as phrases. Simplified forms; traditional input is simplified first.
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "闻人", "呼延", "澹台", "钟离", "百里", "万俟", "公冶",
    "太史", "申屠", "赫连", "濮阳", "淳于", "拓跋",
})
# One-character surnames whose reading as a surname differs from pypinyin's reading of the
# character alone. Only what pypinyin lacks: compound surnames are read by pypinyin's own phrase
# dictionary (尉迟 yuchi, 万俟 moqi, 长孙 zhangsun), and a test keeps every entry here different
# from pypinyin's reading.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "区": "ou", "仇": "qiu", "解": "xie", "朴": "piao", "查": "zha",
    "乐": "yue", "盖": "ge", "缪": "miao", "翟": "zhai", "覃": "qin", "种": "chong", "秘": "bi",
}
_ORG_HINTS = ("公司", "银行", "集团", "有限", "股份", "中心", "协会", "大学", "医院", "工厂", "商行", "基金")


def has_han(text: str | None) -> bool:
    return bool(text) and _HAN.search(text or "") is not None


def _fold(text: str) -> str:
    # Full-width digits and letters become ASCII; accents drop; the rest of non-FIN-X becomes space.
    norm = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    ascii_only = "".join(c for c in norm if not unicodedata.combining(c))
    return _NOT_FINX.sub(" ", ascii_only)


def _syllables(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: _fold(s)))


_HAN_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def _joined(words: list[str]) -> list[str]:
    """Each Han-only word's syllables joined, from one pypinyin call for all the words (pypinyin's
    per-call cost dominates short texts; every Han character is one syllable)."""
    syllables = lazy_pinyin(words, style=Style.NORMAL, errors=lambda s: _fold(s))
    out, i = [], 0
    for word in words:
        out.append("".join(syllables[i:i + len(word)]))
        i += len(word)
    return out


@lru_cache(maxsize=65536)
def _han_run(run: str) -> str:
    """A run of Han characters as its words (pypinyin's mmseg), each word's syllables joined.
    Cached per run: whole texts (an address with its number) rarely recur, their runs (a surname, a
    district, a street) do."""
    return " ".join(_joined(list(seg.cut(run))))


def _words(text: str) -> str:
    out = [_han_run(run) if has_han(run) else _fold(run) for run in _HAN_RUNS.split(text)]
    return " ".join(w for w in out if w.strip())


def _tidy(text: str, limit: int) -> str:
    return _SPACES.sub(" ", text).strip().upper()[:limit].strip()


_TO_SIMPLIFIED = opencc.OpenCC("t2s")


def simplified(han: str) -> str:
    """Traditional characters as simplified ones (OpenCC's t2s tables): 歐陽 -> 欧阳."""
    return str(_TO_SIMPLIFIED.convert(han))


def is_person_name(name: str) -> bool:
    """A Chinese-script personal name: 1-4 Han characters, no space, no organisation word."""
    n = name.strip()
    return (has_han(n) and len(n) <= 4 and not _SPACES.search(n) and _HAN_RUNS.fullmatch(n) is not None
            and not any(h in n for h in _ORG_HINTS))


def split_person(name: str) -> tuple[str, str]:
    """A Chinese personal name (``is_person_name``) cut into surname and given name, simplified."""
    n = simplified(name.strip())
    sur_len = 2 if n[:2] in COMPOUND_SURNAMES else 1
    return n[:sur_len], n[sur_len:]


def _unread(chars: str) -> Any:
    # A character pypinyin has no reading for is left out rather than sent in Chinese script; one
    # empty syllable per character keeps the surname/given split aligned (pypinyin accepts a
    # list here, its stubs say str).
    return ["" for _ in chars]


@lru_cache(maxsize=65536)
def person_syllables(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Lower-case pinyin syllables of the surname and of the given name: "單雄信" ->
    (("shan",), ("xiong", "xin")). The one reading that delivery and screening both use."""
    surname, given = split_person(name)
    reading = SURNAME_READINGS.get(surname)
    if reading:
        sur = [reading]
        giv = lazy_pinyin(given, style=Style.NORMAL, errors=_unread) if given else []
    else:
        # One call for both words, each read as its own word (pypinyin's phrases apply within each).
        both = lazy_pinyin([surname, given] if given else [surname], style=Style.NORMAL, errors=_unread)
        sur, giv = both[:len(surname)], both[len(surname):]
    return tuple(s.lower() for s in sur if s), tuple(s.lower() for s in giv if s)


@lru_cache(maxsize=65536)
def person_name(name: str, limit: int = 140) -> str:
    """A Chinese personal name as SURNAME GIVENNAME in FIN-X."""
    n = name.strip()
    if not is_person_name(n):
        return text(n, limit)
    sur, giv = person_syllables(n)
    return _tidy(f"{''.join(sur)} {''.join(giv)}", limit)


@lru_cache(maxsize=65536)
def text(value: str, limit: int = 140) -> str:
    """Any text (organisation names, address parts) in FIN-X, words kept apart."""
    return _tidy(_words(value) if has_han(value) else _fold(value), limit)


def name(value: str, limit: int = 140) -> str:
    """A party name: personal-name rules for short Chinese names, word rules otherwise."""
    return person_name(value, limit)


def is_finx(value: str) -> bool:
    return FINX.match(value) is not None


def is_finx_extended(value: str) -> bool:
    return FINX_EXTENDED.match(value) is not None
