"""Chinese personal names across romanizations: pinyin, Wade-Giles, Hong Kong Cantonese, characters.

The same person is "张伟国", "Zhang Weiguo", "Chang Wei-kuo" (Wade-Giles) or "Cheung Wai Kwok"
(Hong Kong Government Cantonese Romanisation). A name is read as a sequence of syllables, each a
set of Mandarin pinyin syllables it can stand for (a bit mask); two names agree when they have
the same number of syllables and each pair of syllables shares a reading.

Published data only, no hand lists:
- pinyin syllables and character readings: pypinyin's dictionaries (``pinyin_dict``);
- Wade-Giles: pypinyin's pinyin -> Wade-Giles table (``pypinyin.style.wadegiles``, which cites
  its sources: the Wikipedia and University of Chicago conversion tables);
- Cantonese: the cantonese-romanisation package's character -> HK Government Romanisation data
  (the spelling on HKID cards and in lists: Wong, Chan, Cheung); traditional forms via OpenCC;
- "characters used in names": GB 2312 level 1 (the 3,755 most common characters, read from
  Python's gb2312 codec), so that a Cantonese syllable stands only for common readings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast

import opencc
from cantoroman import Cantonese
from pypinyin import Style, lazy_pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict
from pypinyin.style.wadegiles import to_wade_glides

from router.iso20022 import transliterate as tl

Scheme = Literal["pinyin", "wade-giles", "cantonese"]
SCHEMES: tuple[Scheme, ...] = ("pinyin", "wade-giles", "cantonese")
_LETTERS = re.compile(r"[^a-z]")
_VOWELS = frozenset("aeiou")
_NUCLEI = frozenset("aeiouy")
# The 100 most common surnames (Ministry of Public Security, 2019 household register ranking).
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
            "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_TO_TRADITIONAL = opencc.OpenCC("s2t")


def _plain(syllable: str) -> str:
    # ü is written u on lists and in payments (Lü -> LU, Hsüeh -> HSUEH); apostrophes are dropped.
    return _LETTERS.sub("", to_normal(syllable).replace("ü", "u").replace("v", "u").lower())


def _is_common(char: str) -> bool:
    """GB 2312 level 1: row bytes 0xB0-0xD7."""
    try:
        b = tl.simplified(char).encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7


# A Mandarin reading is a Cantonese spelling's usual one when at least this share (of the
# spelling's most frequent reading) of its common characters read so. Chosen on the bench
# (``router bench screening``, BENCHMARKS.md): 0.2 halves false holds on two-syllable names.
CANTONESE_USUAL_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Tables:
    ids: dict[str, int]  # pinyin syllable -> bit
    spell: dict[Scheme, dict[str, int]]  # scheme -> written syllable -> mask of pinyin syllables
    # The same with only each syllable's usual readings (differs for Cantonese only): what a
    # two-syllable name must agree on, since the rare readings made "Ho Si" meet "HE, Yi".
    usual: dict[Scheme, dict[str, int]]
    longest: int


@lru_cache(maxsize=1)
def tables() -> Tables:
    readings: dict[str, set[str]] = {}
    for cp, value in pinyin_dict.items():
        char = chr(cp)
        readings[char] = {p for p in (_plain(v) for v in value.split(",")) if p}
    syllables = sorted(set().union(*readings.values()))
    ids = {s: 1 << i for i, s in enumerate(syllables)}
    pinyin = dict(ids)
    wade: dict[str, int] = {}
    for s, bit in ids.items():
        w = _plain(to_wade_glides(s) or s)
        wade[w] = wade.get(w, 0) | bit
    # How many common characters are written r in Cantonese and read p in Mandarin (国: gwok
    # and kwok -> guo). Only a character's usual Mandarin reading counts: all readings of every
    # character would make "wa" stand for half the syllables.
    counts: dict[str, dict[int, int]] = {}
    for char, spellings in _roman().items():
        if not _is_common(char) or not spellings:
            continue
        mandarin = lazy_pinyin(tl.simplified(char), style=Style.NORMAL)[0]
        bit = ids.get(_plain(mandarin), 0)
        for r in spellings if bit else ():
            per = counts.setdefault(r, {})
            per[bit] = per.get(bit, 0) + 1
    canto = {r: sum(per) for r, per in counts.items()}  # distinct bits: the sum is the union
    # The readings of a fair share of a spelling's characters: "si" is shi (22 characters) or si
    # (9), and yi for one character only.
    usual_canto = {r: sum(b for b, n in per.items() if n >= CANTONESE_USUAL_SHARE * max(per.values()))
                   for r, per in counts.items()}
    roman = _roman()
    for char in SURNAMES:  # a common surname is a usual reading of its spellings (徐: Chui -> xu)
        bit = ids[_plain(lazy_pinyin(char, style=Style.NORMAL)[0])]
        for r in roman.get(str(_TO_TRADITIONAL.convert(char)), ()):
            if r in usual_canto:
                usual_canto[r] |= bit
    spell: dict[Scheme, dict[str, int]] = {"pinyin": pinyin, "wade-giles": wade, "cantonese": canto}
    usual: dict[Scheme, dict[str, int]] = {"pinyin": pinyin, "wade-giles": wade, "cantonese": usual_canto}
    return Tables(ids, spell, usual, max(len(k) for d in spell.values() for k in d))


@lru_cache(maxsize=65536)
def segment(word: str, scheme: Scheme) -> tuple[str, ...] | None:
    """A written word ("weiguo", "weikuo") as the fewest syllables of ``scheme``, or None."""
    t = tables()
    known = t.spell[scheme]
    n = len(word)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        cur = best[i]
        if cur is None:
            continue
        for j in range(min(n, i + t.longest), i, -1):
            piece = word[i:j]
            # Inside a word a syllable starts with a consonant and has a vowel: pinyin writes
            # "Xi'an" for xi-an, so "lui" is not lu-i, nor "hon" ho-n.
            if i and (piece[0] in _VOWELS or not _NUCLEI.intersection(piece)):
                continue
            if piece in known and (best[j] is None or len(cur) + 1 < len(best[j] or ())):
                best[j] = (*cur, piece)
    return best[n]


@dataclass(frozen=True, slots=True)
class Reading:
    """A name read as Chinese in one scheme: each token's syllables (masks), in written order."""

    scheme: Scheme | Literal["characters"]
    tokens: tuple[tuple[int, ...], ...]
    usual: tuple[tuple[int, ...], ...]  # the same with each syllable's usual readings only

    @property
    def syllables(self) -> int:
        return sum(len(t) for t in self.tokens)


MAX_SYLLABLES = 4


# A token's syllables in one scheme: their masks, and the same with usual readings only.
TokenReading = tuple[tuple[int, ...], tuple[int, ...]]


@lru_cache(maxsize=65536)  # per token, as ``segment``: given names and surnames recur across names
def token_readings(tok: str) -> tuple[TokenReading | None, ...] | None:
    """A written word read in each of ``SCHEMES`` (None where it is not that scheme's syllables);
    None when it reads in none, as most words of non-Chinese names (so a name is rejected on its
    first such word without trying the other schemes)."""
    t = tables()
    out: list[TokenReading | None] = []
    for scheme in SCHEMES:
        parts = segment(tok, scheme)
        if parts is None:
            out.append(None)
            continue
        full, usual = t.spell[scheme], t.usual[scheme]
        out.append((tuple(full[x] for x in parts), tuple(usual[x] for x in parts)))
    return tuple(out) if any(out) else None


@lru_cache(maxsize=262144)
def readings(toks: tuple[str, ...]) -> tuple[Reading, ...]:
    """Every scheme in which all of a name's tokens are Chinese syllables (2-4 in all)."""
    if not 1 <= len(toks) <= MAX_SYLLABLES:
        return ()
    per: list[tuple[TokenReading | None, ...]] = []
    for tok in toks:
        r = token_readings(tok)
        if r is None:
            return ()
        per.append(r)
    out: list[Reading] = []
    for k, scheme in enumerate(SCHEMES):
        written = [p[k] for p in per]
        if None in written:
            continue
        parts = cast(list[TokenReading], written)
        if 2 <= sum(len(p[0]) for p in parts) <= MAX_SYLLABLES:
            out.append(Reading(scheme, tuple(p[0] for p in parts), tuple(p[1] for p in parts)))
    return tuple(out)


@lru_cache(maxsize=65536)
def of_characters(name: str) -> Reading | None:
    """A name in Chinese characters, read by the one transliterator (surname first)."""
    if not tl.is_person_name(name) or len(name.strip()) < 2:
        return None
    ids = tables().ids
    sur, given = tl.person_syllables(name)
    masks = tuple(ids.get(s, 0) for s in (*sur, *given))
    if not all(masks):
        return None
    toks = tuple(t for t in (masks[:len(sur)], masks[len(sur):]) if t)
    return Reading("characters", toks, toks)


def spelled(name: str, scheme: Scheme) -> str:
    """A name in characters written in ``scheme``, surname first, given name joined: the forms a
    payment may carry ("Zhang Weiguo", "Chang Weikuo", "Cheung Waikwok")."""
    n = tl.simplified(name.strip())
    sur, _ = tl.split_person(n)
    if scheme == "pinyin":
        s, g = tl.person_syllables(n)
        return f"{''.join(s)} {''.join(g)}".title()
    if scheme == "wade-giles":
        s, g = tl.person_syllables(n)
        return f"{''.join(_plain(to_wade_glides(x) or x) for x in s)} " \
               f"{'-'.join(_plain(to_wade_glides(x) or x) for x in g)}".title()
    roman = _roman()
    trad = str(_TO_TRADITIONAL.convert(n))
    parts = [(roman.get(c) or [""])[0] for c in trad]
    if not all(parts):
        return ""  # a character the Cantonese data does not have
    return f"{''.join(parts[:len(sur)])} {' '.join(parts[len(sur):])}".title()


@lru_cache(maxsize=1)
def _roman() -> dict[str, list[str]]:
    return dict(Cantonese().charToRoman)


def agree(a: Sequence[int], b: Sequence[int]) -> bool:
    """Two syllable sequences that can be read alike, syllable by syllable."""
    return len(a) == len(b) and all(x & y for x, y in zip(a, b, strict=True))


def rare(a: Sequence[int], b: Sequence[int]) -> int:
    """How many syllables of two agreeing sequences agree only through a rare reading."""
    return sum(not x & y for x, y in zip(a, b, strict=True))


def orders(r: Reading, *, usual: bool = False) -> list[tuple[int, ...]]:
    """The syllables surname first, as written and with the last token moved to the front
    (a payment writes "Weiguo Zhang"; a list "ZHANG, Weiguo"); ``usual``: usual readings only."""
    toks = r.usual if usual else r.tokens
    flat = tuple(m for t in toks for m in t)
    out = [flat]
    if len(toks) >= 2:
        out.append(tuple(m for t in (toks[-1], *toks[:-1]) for m in t))
    return out


CHINESE_COUNTRIES = frozenset({"CN", "HK", "MO", "TW"})


def is_chinese_person(kind: str, countries: Sequence[str], aliases: Sequence[str]) -> bool:
    """A listed person the list itself ties to China, Hong Kong, Macao or Taiwan, or who has a
    name in Chinese script: the names compared across romanizations."""
    return kind == "individual" and (bool(set(countries) & CHINESE_COUNTRIES)
                                     or any(_HAN.search(a) for a in aliases))


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_short(toks: tuple[str, ...]) -> bool:
    """A two-syllable Chinese name ("Shi Min", "Yuan Wei"): too common to match on syllables alone."""
    return len(toks) == 2 and any(r.syllables == 2 for r in readings(toks))
