"""A labelled set of Chinese personal names in every form: characters, pinyin, Wade-Giles, Cantonese.

Listed: every person on the loaded lists whose name reads as pinyin and who is Chinese by the
list's own data (a China, Hong Kong, Macao or Taiwan nationality or address, or a name in Chinese
script). Their characters come from the list when it has them, else from the most common
characters (GB 2312 level 1) whose reading is each syllable; the other forms are written from
the characters. Clean: random names from common surnames and given-name characters, in the same
four forms; a clean name that reads exactly as a listed person's (a namesake) is excluded and
counted, since screening is right to hold it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from router.iso20022 import transliterate as tl
from router.screening import chinese
from router.screening.chinese import SURNAMES
from router.screening.model import ListEntry
from router.screening.normalise import has_cjk, tokens

FORMS = ("characters", "pinyin", "wade-giles", "cantonese")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文斌宇浩凯健俊帆帅旭宁晨琳雪梅兰红玉婷飞鹏辉"
         "玲燕建国志海波荣新春林峰振东晓亮嘉欣怡佳琪子涵梓萱诗雨思博睿晗欢悦嘉豪子轩梓轩一鸣天佑")


@dataclass(frozen=True, slots=True)
class ChineseItem:
    query: str
    form: str
    entry_uid: str | None  # None for clean names
    han: str  # the characters the forms were written from


@lru_cache(maxsize=1)
def _char_for() -> dict[str, str]:
    """Pinyin syllable -> the first GB 2312 level-1 character read that way alone."""
    out: dict[str, str] = {}
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                c = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            (syl,) = lazy_pinyin(c, style=Style.NORMAL)
            out.setdefault(syl, c)
    for c in GIVEN:  # prefer name characters where they read the same
        out[lazy_pinyin(c, style=Style.NORMAL)[0]] = c
    return out


@lru_cache(maxsize=1)
def _surname_for() -> dict[str, str]:
    """Pinyin syllable -> the most common surname read so (徐 for xu, not the given-name 旭)."""
    out = dict(_char_for())
    for c in reversed(SURNAMES):  # the ranking's first surname of a reading wins
        out[lazy_pinyin(c, style=Style.NORMAL)[0]] = c
    return out


def is_chinese_person(e: ListEntry) -> bool:
    return chinese.is_chinese_person(e.kind, (*e.countries, *e.identifiers.nationalities), e.aliases)


def characters_for(e: ListEntry) -> str | None:
    """The person's name in characters: the list's own, else written from its pinyin."""
    for a in e.aliases:
        if has_cjk(a) and tl.is_person_name(a) and tokens(a) == _surname_first(e):
            return a.strip()
    toks = _surname_first(e)
    reads = [r for r in chinese.readings(toks) if r.scheme == "pinyin"]
    if not reads:
        return None
    out = ""
    for pos, tok in enumerate(toks):
        # The surname written with a surname character, the given name with name characters.
        chars = _surname_for() if pos == 0 else _char_for()
        sylls = _pinyin_syllables(tok)
        if sylls is None or any(s not in chars for s in sylls):
            return None
        out += "".join(chars[s] for s in sylls)
    if not tl.is_person_name(out) or len(out) < 2 or tokens(out) != toks:
        return None  # the characters would not read back as the listed name
    return out


def _surname_first(e: ListEntry) -> tuple[str, ...]:
    if "," in e.name:
        sur, given = e.name.split(",", 1)
        return (*tokens(sur), "".join(tokens(given)))
    return tokens(e.name)


def _pinyin_syllables(word: str) -> list[str] | None:
    ids = chinese.tables().ids
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        cur = best[i]
        if cur is None:
            continue
        for j in range(min(n, i + 6), i, -1):
            if word[i:j] in ids and (best[j] is None or len(cur) + 1 < len(best[j] or [])):
                best[j] = [*cur, word[i:j]]
    return best[n]


def forms_of(han: str) -> dict[str, str]:
    return {"characters": han, **{s: chinese.spelled(han, s) for s in chinese.SCHEMES}}


def listed_items(entries: Sequence[ListEntry]) -> list[ChineseItem]:
    out: list[ChineseItem] = []
    for e in entries:
        if not is_chinese_person(e):
            continue
        han = characters_for(e)
        if han is None:
            continue
        out.extend(ChineseItem(q, form, e.uid, han) for form, q in forms_of(han).items() if q)
    return out


def clean_items(rng: random.Random, n: int, listed_names: set[str]) -> tuple[list[ChineseItem], int]:
    """``n`` clean names in each form, and how many namesakes of listed names were excluded
    (``listed_names``: every list name's tokens, sorted and space-joined)."""
    out: list[ChineseItem] = []
    seen: set[str] = set()
    excluded = 0
    while len(seen) < n:
        han = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if han in seen:
            continue
        forms = forms_of(han)
        if not all(forms.values()):
            continue
        if any(" ".join(sorted(tokens(q))) in listed_names for q in forms.values()):
            excluded += 1
            continue
        seen.add(han)
        out.extend(ChineseItem(q, form, None, han) for form, q in forms.items())
    return out, excluded
