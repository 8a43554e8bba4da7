"""Name normalisation and transliteration: the one place that decides how names compare.

A name becomes lower-case ASCII tokens: diacritics stripped, punctuation to spaces, honorifics
and legal forms ("Co., Ltd.", "S.A.", 有限公司) dropped. Chinese-script names become pinyin written the way pinyin names
appear on lists and in CBPR+ messages: surname, then the given name as ONE token
("李方伟" -> "li fangwei"), read by ``router.iso20022.transliterate``, the transliterator that
also writes the name delivered on CBPR+, so the name screened is the name sent. Joining the
given name matters: one token per syllable ("li fang wei") matched 2-4 of 8 list names in our
trials, surname + given matched 8 of 8.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from router.iso20022.transliterate import is_person_name, person_syllables

HONORIFICS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady", "sheikh", "shaikh",
    "sheik", "haji", "hajji", "hadji", "mullah", "maulana", "maulvi", "imam", "general", "gen", "col",
    "colonel", "capt", "captain", "major", "lt", "sgt", "rev", "hon", "jr", "sr", "herr", "frau",
    "monsieur", "madame", "mme", "senor", "sra", "don", "dona", "xiansheng", "nushi",
})

# Legal forms say nothing about who a company is; "Golden Lotus Shipping" is the name.
LEGAL_FORMS = frozenset({
    "ltd", "limited", "llc", "lp", "llp", "plc", "inc", "incorporated", "corp", "corporation", "co", "company",
    "sa", "sarl", "sas", "srl", "spa", "ag", "gmbh", "bv", "nv", "oy", "ab", "kft", "zao", "ooo", "oao",
    "pjsc", "jsc", "ojsc", "cjsc", "fze", "fzco", "fzc", "fzllc", "pte", "pvt", "sdn", "bhd", "cv", "sae",
})
# Legal forms run into the name ("TEXTILECOMPANY", "LLCKOKSOKHIMTRANS"): cut when what is left
# is still a plausible word.
_GLUED_LEGAL = re.compile(r"^(?:llc|ooo|ltd|jsc|pjsc|oao|zao)(?=[a-z]{4})|(?<=[a-z]{4})(?:company|corporation|limited|"
                          r"incorporated|gmbh|llc|ltd|corp|sarl|fze)$")
_GLUED_PREFIXES = ("llc", "ooo", "ltd", "jsc", "pjsc", "oao", "zao")
_GLUED_SUFFIXES = ("company", "corporation", "limited", "incorporated", "gmbh", "llc", "ltd", "corp", "sarl", "fze")
_DOTTED = re.compile(r"\b(\w)\.(?=\w\.)")
_LONG_LEGAL = ("company", "corporation", "limited", "incorporated", "liability", "societe", "sociedad", "gesellschaft")
# One typo away from a long legal form ("COMPAYN", "LIMITEmD") is still a legal form: every
# spelling one edit away, precomputed (a few thousand strings), so the check is one lookup.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    out = {word}
    for i in range(len(word) + 1):
        out.update(word[:i] + c + word[i:] for c in _ALPHABET)
        if i < len(word):
            out.add(word[:i] + word[i + 1:])
            out.update(word[:i] + c + word[i + 1:] for c in _ALPHABET)
        if i < len(word) - 1:
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2:])
    return out


# A word is a legal form when it is in this set (one lookup).
_LEGAL_NEAR = frozenset(LEGAL_FORMS | set().union(*(_one_edit(f) for f in _LONG_LEGAL)))


_CJK_LEGAL = re.compile(r"(有限责任公司|有限責任公司|股份有限公司|有限公司|集团公司|集團公司|公司)$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u00b7\u30fb]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# The words of a folded name: the runs that ``_NON_ALNUM`` leaves, found in one pass.
_WORD = re.compile(r"[a-z0-9]+")

def has_cjk(text: str) -> bool:
    # Most names screened are ASCII: a flag check instead of a regex scan.
    return not text.isascii() and _CJK.search(text) is not None


def _syllables(text: str) -> list[str]:
    return [s for s in (_NON_ALNUM.sub("", p.lower()) for p in lazy_pinyin(text, style=Style.NORMAL)) if s]


@lru_cache(maxsize=65536)
def cjk_to_pinyin(text: str, *, person: bool = True) -> str:
    """A Chinese-script name in list-style pinyin.

    Persons (2-4 characters): "surname given" with the given name joined. Longer strings
    (organisations, vessels) are written as one joined token per run of characters.
    """
    runs = _CJK_RUN.findall(text)
    if not runs:
        return ""
    if person and len(runs) == 1 and len(runs[0]) >= 2 and is_person_name(runs[0]):
        # The very reading translation delivers to the correspondent (one transliterator).
        sur, given = person_syllables(runs[0])
        return f"{''.join(sur)} {''.join(given)}".strip()
    return " ".join("".join(_syllables(_CJK_LEGAL.sub("", r) or r)) for r in runs)


def fold(text: str) -> str:
    """Lower-case ASCII with diacritics removed (é -> e, ß -> ss, ø -> o)."""
    if text.isascii():
        return text.lower()
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    text = text.replace("đ", "d").replace("Đ", "D").replace("æ", "ae").replace("Æ", "AE").replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=65536)
def _words(name: str) -> tuple[str, ...]:
    """A Latin-script name's words, folded, apostrophes dropped: what ``tokens`` and
    ``syllable_tokens`` both start from (a name is screened for both, so it is split once)."""
    text = fold(name)
    if "'" in text or "`" in text or "’" in text:
        text = text.replace("'", "").replace("`", "").replace("’", "")
    return tuple(_WORD.findall(text))


@lru_cache(maxsize=262144)
def tokens(name: str) -> tuple[str, ...]:
    """Normalised tokens of a name in its written order (Chinese script transliterated)."""
    if has_cjk(name):
        if _CJK_RUN.sub("", name).strip(" ()（）,，"):
            # Mixed scripts: transliterate each Chinese run where it stands.
            name = _CJK_RUN.sub(lambda m: f" {cjk_to_pinyin(m.group(0), person=False)} ", name)
        else:
            name = cjk_to_pinyin(name)
    # OFAC writes persons "SURNAME, Given"; order is handled by sorting, so the comma just splits.
    if "." in name or (not name.isascii() and "." in fold(name)):  # folding can make one ("…")
        # "S.A." and "Co." are one token each, not stray initials.
        text = _DOTTED.sub(r"\1", fold(name).replace("'", "").replace("`", "").replace("’", ""))
        raw: Sequence[str] = _WORD.findall(text)
    else:
        raw = _words(name)
    legal = [t in _LEGAL_NEAR for t in raw]
    # A legal form broken by a space ("COM PANY", "LIAB ILITY") is still a legal form.
    for i in range(len(raw) - 1):
        if not (legal[i] or legal[i + 1]):
            joined = raw[i] + raw[i + 1]
            if len(joined) >= 5 and joined in _LEGAL_NEAR:
                legal[i] = legal[i + 1] = True
    out = tuple([_unglue(t) if len(t) >= 7 else t for t, is_legal in zip(raw, legal, strict=True)
                 if not is_legal and t not in HONORIFICS])
    return out or tuple(raw)


@lru_cache(maxsize=262144)
def syllable_tokens(name: str) -> tuple[str, ...]:
    """The words of a Latin-script name as Chinese syllables are read from them: like ``tokens``
    but legal forms are kept ("Cheng Te-Je-Sa": "sa" is a syllable here, not S.A.)."""
    if has_cjk(name):
        return tokens(name)
    return tuple(t for t in _words(name) if t not in HONORIFICS)


def _unglue(t: str) -> str:
    if len(t) >= 7 and (t.startswith(_GLUED_PREFIXES) or t.endswith(_GLUED_SUFFIXES)):
        return _GLUED_LEGAL.sub("", t)
    return t


def normalise(name: str) -> str:
    """The canonical comparison form: tokens sorted, space-joined (token order does not matter)."""
    return " ".join(sorted(tokens(name)))


def split_scripts(name: str) -> list[str]:
    """Split "Jin Tiesan (金铁三)" into its Latin and Chinese-script names, each screened alone."""
    if not has_cjk(name):
        return [name]
    parts = [p.strip(" ()（）,，;；") for p in _CJK_RUN.split(name)]
    latin = " ".join(p for p in parts if p)
    out = ["".join(_CJK_RUN.findall(name))] if len(_CJK_RUN.findall(name)) == 1 else _CJK_RUN.findall(name)
    if latin.strip():
        out.insert(0, latin)
    return out
