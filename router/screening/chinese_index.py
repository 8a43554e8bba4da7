"""Romanization-aware lookup of Chinese personal names on the lists (``chinese`` reads them).

Every list name of a Chinese person (``chinese.is_chinese_person``) whose tokens read as 2-4
Chinese syllables in some scheme is indexed by its syllable count and first syllable (surname
first, as published and with the last token moved to the front). A query reads the same way,
or from its characters; a candidate is a hit when every syllable shares a reading. The score
says how sure the equivalence is: pinyin, Wade-Giles and characters map syllable to syllable
(``TIGHT``); Cantonese stands for several Mandarin readings (``LOOSE``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from router.screening import chinese
from router.screening.index import IndexedName
from router.screening.model import ListEntry
from router.screening.normalise import has_cjk, tokens

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


class ChineseIndex:
    def __init__(self, names: Sequence[IndexedName], entries: Sequence[ListEntry]) -> None:
        self.names = names
        self._by_key: dict[tuple[int, int], list[tuple[int, tuple[int, ...], str]]] = defaultdict(list)
        chinese_people = {i for i, e in enumerate(entries)
                          if chinese.is_chinese_person(e.kind, (*e.countries, *e.identifiers.nationalities), e.aliases)}
        for n_id, n in enumerate(names):
            if n.entry not in chinese_people:
                continue
            for r in chinese.readings(n.tokens):
                for seq in chinese.orders(r):
                    for bit in _bits(seq[0]):
                        self._by_key[(len(seq), bit)].append((n_id, seq, r.scheme))

    def __len__(self) -> int:
        return len(self._by_key)

    def search(self, name: str) -> list[ChineseHit]:
        reads: tuple[chinese.Reading, ...]
        if has_cjk(name):
            r = chinese.of_characters(name.strip())
            reads = (r,) if r else ()
        else:
            reads = chinese.readings(tokens(name))
        best: dict[int, ChineseHit] = {}
        for r in reads:
            for seq in chinese.orders(r):
                for bit in _bits(seq[0]):
                    for n_id, listed, scheme in self._by_key.get((len(seq), bit), ()):
                        # The same scheme on both sides is a spelling question (NameIndex's).
                        if scheme == r.scheme or not chinese.agree(seq, listed):
                            continue
                        loose = "cantonese" in (r.scheme, scheme)
                        score = LOOSE if loose else TIGHT
                        seen = best.get(n_id)
                        if seen is None or seen.score < score:
                            best[n_id] = ChineseHit(self.names[n_id], score, r.scheme, scheme)
        return sorted(best.values(), key=lambda h: -h.score)
