"""Chinese script -> the CBPR+ FIN-X Latin set, deterministically (pypinyin, no tone marks).

Personal names come out surname first, given name joined: "李芳卫" -> "LI FANGWEI" (the form
screening matched best, see DESIGN.md). Other text is cut into words (pypinyin's mmseg) and
each word's syllables joined. Anything else is folded to ASCII and dropped if not in FIN-X.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.seg.mmseg import seg

FINX = re.compile(r"^[0-9A-Za-z/\-?:().,'+ ]*$")
# CBPR+ allows a wider set in names, addresses and remittance text than in identifiers.
FINX_EXTENDED = re.compile(r"^[0-9A-Za-z/\-?:().,'+ !#$%&*=^_`{|}~\";<>@\[\\\]]*$")
_NOT_FINX = re.compile(r"[^0-9A-Za-z/\-?:().,'+ ]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")

COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "闻人", "呼延", "澹台", "钟离", "百里",
})
# Characters read differently as a surname than in running text.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "区": "ou", "仇": "qiu", "解": "xie", "朴": "piao", "查": "zha",
    "乐": "yue", "盖": "ge", "缪": "miao", "翟": "zhai", "尉": "yu", "覃": "qin", "种": "chong",
    "长孙": "zhangsun", "尉迟": "yuchi", "万俟": "moqi",
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


def _words(text: str) -> str:
    parts: list[str | list[str]] = []
    for run in _HAN_RUNS.split(text):
        if has_han(run):
            parts.append(list(seg.cut(run)))
        elif run.strip():
            parts.append(_fold(run))
    han = _joined([w for p in parts if isinstance(p, list) for w in p])
    out: list[str] = []
    for p in parts:
        if isinstance(p, list):
            out.extend(han[:len(p)])
            han = han[len(p):]
        else:
            out.append(p)
    return " ".join(out)


def _tidy(text: str, limit: int) -> str:
    return _SPACES.sub(" ", text).strip().upper()[:limit].strip()


@lru_cache(maxsize=65536)
def person_name(name: str, limit: int = 140) -> str:
    """A Chinese personal name as SURNAME GIVENNAME in FIN-X."""
    n = name.strip()
    if not has_han(n) or _SPACES.search(n) or any(h in n for h in _ORG_HINTS) or len(n) > 4:
        return text(n, limit)
    sur_len = 2 if n[:2] in COMPOUND_SURNAMES or n[:2] in SURNAME_READINGS else 1
    surname, given = n[:sur_len], n[sur_len:]
    reading = SURNAME_READINGS.get(surname)
    if reading:
        return _tidy(f"{reading} {_syllables(given)}", limit)
    sur, giv = _joined([surname, given])
    return _tidy(f"{sur} {giv}", limit)


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
