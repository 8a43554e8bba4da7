"""Romanization-aware lookup of Chinese personal names on the lists (``chinese`` reads them).

Every list name of a Chinese person (``chinese.is_chinese_person``) whose tokens read as 2-4
Chinese syllables in some scheme is indexed by its syllable count and first two syllables (surname
first, as published and with the last token moved to the front). A query reads the same way,
or from its characters; a candidate is a hit when every syllable shares a reading. The score
says how sure the equivalence is: pinyin, Wade-Giles and characters map syllable to syllable
(``TIGHT``); Cantonese stands for several Mandarin readings (``LOOSE``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from router.screening import chinese
from router.screening.index import IndexedName
from router.screening.model import ListEntry
from router.screening.normalise import has_cjk, syllable_tokens

TIGHT = 0.95
LOOSE = 0.92


@dataclass(frozen=True, slots=True)
class ChineseHit:
    name: IndexedName
    score: float
    scheme: str  # how the query was read: characters / pinyin / wade-giles / cantonese
    listed_as: str  # how the list name was read


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low)
        mask ^= low
    return out


Probe = tuple[tuple[tuple[int, int, int], ...], tuple[int, ...], tuple[int, ...]]


@lru_cache(maxsize=262144)
def probes(r: chinese.Reading) -> tuple[Probe, ...]:
    """Each order of a reading with its syllables, their usual readings and its lookup keys:
    (syllables, a reading of the first, a reading of the second), every combination."""
    out = []
    for seq, usual in zip(chinese.orders(r), chinese.orders(r, usual=True), strict=True):
        keys = tuple((len(seq), a, b) for a, b in product(_bits(seq[0]), _bits(seq[1])))
        out.append((keys, seq, usual))
    return tuple(out)


class ChineseIndex:
    def __init__(self, names: Sequence[IndexedName], entries: Sequence[ListEntry]) -> None:
        self.names = names
        # Keys (``probes``) -> (name id, syllables, their usual readings, scheme). Keyed on two
        # syllables, so that a lookup meets only names that already agree on both.
        by_key: dict[tuple[int, int, int], list[tuple[int, tuple[int, ...], tuple[int, ...], str]]] = \
            defaultdict(list)
        chinese_people = {i for i, e in enumerate(entries)
                          if chinese.is_chinese_person(e.kind, (*e.countries, *e.identifiers.nationalities), e.aliases)}
        for n_id, n in enumerate(names):
            if n.entry not in chinese_people:
                continue
            for r in chinese.readings(n.tokens if has_cjk(n.text) else syllable_tokens(n.text)):
                for keys, seq, usual in probes(r):
                    for k in keys:
                        by_key[k].append((n_id, seq, usual, r.scheme))
        self._by_key = {k: tuple(v) for k, v in by_key.items()}

    def __len__(self) -> int:
        return len(self._by_key)

    def search(self, name: str) -> list[ChineseHit]:
        reads: tuple[chinese.Reading, ...]
        if has_cjk(name):
            r = chinese.of_characters(name.strip())
            reads = (r,) if r else ()
        else:
            reads = chinese.readings(syllable_tokens(name))
        if not reads:
            return []
        best: dict[int, ChineseHit] = {}
        get = self._by_key.get
        for r in reads:
            # A syllable read by a rare reading on either side (Cantonese "si" as yi) is a weak
            # agreement: none in a two-syllable name, which thousands share, one in a longer one.
            rare_allowed = 0 if r.syllables <= 2 else 1
            for keys, seq, usual in probes(r):
                for k in keys:
                    for n_id, listed, listed_usual, scheme in get(k, ()):
                        # The same scheme on both sides is a spelling question (NameIndex's).
                        if scheme == r.scheme or not chinese.agree(seq, listed):
                            continue
                        if chinese.rare(usual, listed_usual) > rare_allowed:
                            continue
                        score = LOOSE if "cantonese" in (r.scheme, scheme) else TIGHT
                        seen = best.get(n_id)
                        if seen is None or seen.score < score:
                            best[n_id] = ChineseHit(self.names[n_id], score, r.scheme, scheme)
        return sorted(best.values(), key=lambda h: -h.score)
