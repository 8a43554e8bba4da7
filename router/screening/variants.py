"""A labelled screening set built from real list names: realistic variants and clean names.

Used by ``router bench screening`` and the recall quality gate in the tests. Variants are the
ways a listed name really arrives in a payment: a typo, tokens in another order, a dropped
middle name, different spacing, Chinese characters for a pinyin list name (and pinyin for a
Chinese-script list name), case and diacritics. Clean names come from common first and last
name pools; a combination whose tokens all appear in one list name is a true hit (a dropped
middle name, say), not a clean name, so it is excluded and counted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from router.screening.index import NameIndex
from router.screening.model import ListEntry
from router.screening.normalise import cjk_to_pinyin, has_cjk, tokens

_FIRST = (
    "james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony "
    "mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan "
    "mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra "
    "ashley kimberly emily donna michelle carol amanda melissa deborah stephanie rebecca sharon laura cynthia "
    "hans peter klaus jurgen stefan andreas thomas wolfgang ursula petra sabine monika francois pierre jean "
    "michel philippe nathalie isabelle sylvie giuseppe giovanni antonio marco francesca chiara paola luca "
    "jose juan carlos luis javier miguel pablo sergio lucia carmen elena isabel rosa pilar ines joao pedro "
    "ana sofia olga irina natalia svetlana dmitri sergei andrei pavel ivan nikolai kenji hiroshi yuki akiko "
    "haruto sakura minjun seoyeon jiwoo raj priya amit sunita vikram anita arjun deepa wei fang jing lei "
    "ming hua jun ling xiaoming yan hong bo tao emma olivia noah liam lucas mateo chloe lea louis hugo"
)
FIRST_NAMES = tuple(_FIRST.split())
_LAST = (
    "smith johnson williams brown jones miller davis wilson anderson taylor thomas moore jackson martin "
    "thompson white harris clark lewis robinson walker young allen king wright scott hill green adams baker "
    "nelson carter mitchell roberts turner phillips campbell parker evans edwards collins stewart morris "
    "muller schmidt schneider fischer weber meyer wagner becker schulz hoffmann koch richter klein wolf "
    "dubois durand leroy moreau simon laurent lefebvre michel bertrand rossi russo ferrari esposito bianchi "
    "romano colombo ricci marino greco bruno gallo conti fernandez lopez martinez sanchez perez gomez "
    "ruiz hernandez jimenez moreno alvarez romero navarro torres dominguez vazquez ramos gil serrano "
    "silva santos oliveira souza pereira costa ferreira almeida ivanov smirnov kuznetsov popov sokolov "
    "lebedev kozlov novikov morozov petrov volkov tanaka suzuki takahashi watanabe ito yamamoto nakamura "
    "kobayashi kato yoshida sato patel sharma singh gupta kumar mehta shah reddy nair iyer wang zhang "
    "liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song tang "
    "nielsen jensen hansen andersen larsen johansson karlsson nilsson eriksson virtanen korhonen nowak "
    "kowalski wisniewski novak horvat kovacs nagy toth szabo papadopoulos oconnor murphy kelly walsh"
)
LAST_NAMES = tuple(_LAST.split())
# Common Chinese surnames and given-name characters for clean Chinese-script names.
CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
CN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文斌宇浩凯健俊帆帅旭宁晨琳雪梅兰红玉婷飞鹏辉"


@dataclass(frozen=True, slots=True)
class Labelled:
    query: str
    kind: str  # typo / swap / drop_middle / spacing / chinese / pinyin / format / clean
    entry_uid: str | None  # the list entry a variant derives from; None for clean names


@lru_cache(maxsize=1)
def _syllable_chars() -> dict[str, str]:
    """Pinyin syllable -> a character whose default reading is exactly that syllable."""
    chars: dict[str, str] = {}
    common = CN_SURNAMES + CN_GIVEN
    for c in common:
        chars.setdefault(lazy_pinyin(c, style=Style.NORMAL)[0], c)
    for cp in range(0x4E00, 0x9FA6):
        c = chr(cp)
        (syl,) = lazy_pinyin(c, style=Style.NORMAL)
        if syl.isascii() and syl.isalpha() and syl not in chars:
            chars[syl] = c
    return chars


def segment_pinyin(word: str) -> list[str] | None:
    """Split a joined pinyin word ("fangwei") into syllables, or None if it is not pinyin."""
    syl = _syllable_chars()
    word = word.lower()
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for i in range(len(word)):
        cur = best[i]
        if cur is None:
            continue
        for j in range(min(len(word), i + 6), i, -1):
            if word[i:j] in syl and (best[j] is None or len(cur) + 1 < len(best[j] or [])):
                best[j] = [*cur, word[i:j]]
    return best[len(word)]


def chinese_form(entry: ListEntry) -> str | None:
    """Chinese characters for a pinyin person name "SURNAME, Given" (one given-name token)."""
    if entry.kind != "individual" or "," not in entry.name:
        return None
    sur, given = (p.strip() for p in entry.name.split(",", 1))
    if " " in sur or not given or " " in given or "-" in given:
        return None
    s_syl, g_syl = segment_pinyin(sur), segment_pinyin(given)
    if not s_syl or len(s_syl) != 1 or not g_syl or len(g_syl) > 2:
        return None
    chars = _syllable_chars()
    han = "".join(chars[x] for x in s_syl + g_syl)
    # Only keep forms that read back as the list name: a character chosen for its default
    # reading can still be read otherwise inside a phrase.
    return han if cjk_to_pinyin(han) == f"{sur.lower()} {given.lower()}" else None


def _typo(rng: random.Random, name: str) -> str | None:
    toks = name.split()
    idx = [i for i, t in enumerate(toks) if len(t) >= 4 and t.isalpha()]
    if not idx:
        return None
    i = rng.choice(idx)
    t = toks[i]
    p = rng.randrange(1, len(t))
    op = rng.choice(("sub", "del", "ins", "swap"))
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op == "sub":
        t = t[:p] + rng.choice(letters.replace(t[p].lower(), "")) + t[p + 1:]
    elif op == "del":
        t = t[:p] + t[p + 1:]
    elif op == "ins":
        t = t[:p] + rng.choice(letters) + t[p:]
    elif p < len(t) - 1:
        t = t[:p] + t[p + 1] + t[p] + t[p + 2:]
    else:
        t = t[:p - 1] + t[p] + t[p - 1]
    toks[i] = t
    return " ".join(toks)


def _person_order(name: str) -> list[str]:
    """OFAC "SURNAME, Given Middle" as written in a payment: Given Middle Surname."""
    if "," in name:
        sur, given = name.split(",", 1)
        return given.split() + sur.split()
    return name.split()


_DIACRITICS = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ", "c": "ç"}


def variants_of(rng: random.Random, entry: ListEntry) -> list[Labelled]:
    out: list[Labelled] = []
    name = entry.name
    if has_cjk(name):
        out.append(Labelled(cjk_to_pinyin(name).title(), "pinyin", entry.uid))
        return out
    written = _person_order(name) if entry.kind == "individual" else name.replace(",", " ").split()
    written = [w for w in written if w]
    if not written:
        return out
    plain = " ".join(written)
    t = _typo(rng, plain)
    if t:
        out.append(Labelled(t, "typo", entry.uid))
    if len(written) >= 2:
        sw = written[:]
        while sw == written:
            rng.shuffle(sw)
        out.append(Labelled(" ".join(sw), "swap", entry.uid))
        i = rng.randrange(len(written) - 1)
        if rng.random() < 0.5:
            merged = [*written[:i], written[i] + written[i + 1], *written[i + 2:]]
        else:
            merged = written[:]
            j = max(range(len(written)), key=lambda k: len(written[k]))
            w = written[j]
            if len(w) >= 6:
                cut = rng.randrange(3, len(w) - 2)
                merged[j:j + 1] = [w[:cut], w[cut:]]
        if merged != written:
            out.append(Labelled(" ".join(merged), "spacing", entry.uid))
    if entry.kind == "individual" and len([w for w in written if tokens(w)]) >= 3:
        mid = rng.randrange(1, len(written) - 1)
        out.append(Labelled(" ".join(written[:mid] + written[mid + 1:]), "drop_middle", entry.uid))
    fmt = "".join(_DIACRITICS.get(c, c) if rng.random() < 0.15 else c for c in plain.lower()).title()
    out.append(Labelled(f"Mr. {fmt}" if entry.kind == "individual" else fmt, "format", entry.uid))
    han = chinese_form(entry)
    if han:
        out.append(Labelled(han, "chinese", entry.uid))
    return out


def clean_names(rng: random.Random, index: NameIndex, n: int) -> tuple[list[Labelled], int]:
    """``n`` clean names, and how many candidates were excluded as true list hits."""
    out: list[Labelled] = []
    excluded = 0
    seen: set[str] = set()
    while len(out) < n:
        if rng.random() < 0.1:
            q = rng.choice(CN_SURNAMES) + "".join(rng.choice(CN_GIVEN) for _ in range(rng.randint(1, 2)))
        else:
            q = f"{rng.choice(FIRST_NAMES).title()} {rng.choice(LAST_NAMES).title()}"
            if rng.random() < 0.2:
                q = f"{rng.choice(FIRST_NAMES).title()} {q}"
        if q in seen:
            continue
        seen.add(q)
        if _contained(index, tokens(q)):
            excluded += 1
            continue
        out.append(Labelled(q, "clean", None))
    return out, excluded


def _contained(index: NameIndex, toks: Sequence[str]) -> bool:
    if len({t for t in toks if len(t) >= 2}) < 2:
        return any(t in index.token_df for t in toks)
    return bool(index.names_with_all(toks))


def labelled_set(entries: Sequence[ListEntry], index: NameIndex, *, n_entries: int, n_clean: int,
                 seed: int = 20240503) -> tuple[list[Labelled], int]:
    """Variants of ``n_entries`` random list entries (plus every Chinese-convertible one among
    them), and ``n_clean`` clean names. Returns the set and the number of excluded clean names."""
    rng = random.Random(seed)
    sample = rng.sample(list(entries), min(n_entries, len(entries)))
    items: list[Labelled] = []
    for e in sample:
        items.extend(variants_of(rng, e))
    # Chinese-script variants are rare in a random sample; add all pinyin persons of the list.
    have = {x.entry_uid for x in items if x.kind == "chinese"}
    for e in entries:
        if e.uid not in have and (han := chinese_form(e)):
            items.append(Labelled(han, "chinese", e.uid))
    clean, excluded = clean_names(rng, index, n_clean)
    return items + clean, excluded
