"""Blocking index and fuzzy scorer for list names.

Comparing a screened name with every list name costs 1-4 ms against the SDN list; the goal
is ~50 us. The index narrows the comparison to a few dozen candidates without losing the
variants a full scan would find:

1. Vocabulary keys. Every distinct list token (and every concatenation of two adjacent tokens,
   which catches "Al Qaida" / "Alqaida" spacing) is indexed under itself, its one-character
   deletions (any single typo, insertion or transposition meets a shared deletion key: the
   SymSpell idea) and a consonant skeleton (Mohammed / Muhammad / Mohamad all give "mhmd").
   A query token looks up the same keys and finds every vocabulary token near it.
2. Postings. Each vocabulary token points to the list names that contain it. Candidates are
   ranked by the IDF weight of the query tokens they share, so "Mohammed" barely counts and
   a rare surname counts a lot; tokens shared by thousands of names are not used to block
   (they cannot narrow anything) unless nothing rarer exists.
3. Scoring. The best candidates are scored with rapidfuzz: token-sorted Indel ratio (token
   order), the same on space-free strings (spacing), and a token alignment that tolerates
   dropped middle names. The score is the best of the three, 0..1.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz.process import cdist
from rapidfuzz.distance import Indel, JaroWinkler

from router.screening.model import ListEntry
from router.screening.normalise import split_scripts, tokens

# Token pairs shared by more names than this ("al mohammed") block only when nothing else does.
PAIR_CAP = 300
# Candidates scored per query after blocking.
TOP_CANDIDATES = 24
# Candidates that get the (slower) token alignment, chosen by blocking coverage.
ALIGN_CANDIDATES = 4
# Share of a query's IDF weight a candidate must cover to be considered at all.
MIN_COVERAGE = 0.34
# Blocking uses at most this many of the query's rarest tokens.
MAX_BLOCK_GRAMS = 3
# Hits reported per screened name (the best ones; explanations stay readable).
MAX_HITS = 5
_VOWELS = str.maketrans("", "", "aeiouyhw")


def skeleton(token: str) -> str:
    """First letter, then consonants without repeats: a cheap transliteration-insensitive key."""
    rest = token[1:].translate(_VOWELS)
    out = [token[0]]
    for ch in rest:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def token_keys(token: str) -> list[str]:
    keys = [token]
    if len(token) >= 4:
        keys.extend({token[:i] + token[i + 1:] for i in range(len(token))})
    if len(token) >= 3:
        keys.append("#" + skeleton(token))
    return keys


@dataclass(frozen=True, slots=True)
class IndexedName:
    entry: int  # index into the entries of the index's lists
    field: str  # "name" or "alias"
    text: str  # as published
    tokens: tuple[str, ...]
    sorted_text: str
    compact: str  # sorted tokens without spaces
    written: str  # tokens in written order without spaces
    rotated: str  # "SURNAME, Given" written as in a payment ("givensurname"), else = written
    rotated_tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NameHit:
    name: IndexedName
    score: float


def _similar(a: str, b: str) -> float:
    if len(a) == 1 or len(b) == 1:
        return 0.9 if a[0] == b[0] else 0.0  # an initial stands for any name with that letter
    return Indel.normalized_similarity(a, b)


def align_score(q: Sequence[str], e: Sequence[str]) -> float:
    """Query tokens matched one-to-one into the entry's tokens; unmatched entry tokens cost a little.

    This is what finds "Abdul Karim Hassan" dropped to "Abdul Hassan"; two matched tokens at
    least, so a lone common given name never scores high against a long name.
    """
    if len(q) < 2 or len(e) < 2:
        return 0.0
    used: set[int] = set()
    total = 0.0
    weight = 0
    strong = 0
    for t in sorted(q, key=len, reverse=True):
        best, best_j = 0.0, -1
        for j, u in enumerate(e):
            if j in used:
                continue
            s = _similar(t, u)
            if s > best:
                best, best_j = s, j
        if best_j >= 0 and best >= 0.75:
            used.add(best_j)
            strong += 1
        total += best * len(t)
        weight += len(t)
    if strong < 2:
        return 0.0
    coverage = total / weight
    missing = len(e) - len(used)
    extra = len(q) - len(used)
    return coverage * (1.0 - 0.04 * missing - 0.15 * extra)


def pair_score(q: IndexedName | tuple[str, str, str, tuple[str, ...]], e: IndexedName) -> float:
    """The full score of a screened name against one list name, 0..1."""
    if isinstance(q, IndexedName):
        sorted_q, compact_q, written_q, toks_q = q.sorted_text, q.compact, q.written, q.tokens
    else:
        sorted_q, compact_q, written_q, toks_q = q
    s = max(
        Indel.normalized_similarity(sorted_q, e.sorted_text),
        Indel.normalized_similarity(compact_q, e.compact),
        Indel.normalized_similarity(written_q, e.written),
    )
    if s < 1.0 and e.rotated != e.written:
        s = max(s, Indel.normalized_similarity(written_q, e.rotated))
    if s < 1.0 and len(e.tokens) != len(toks_q):
        s = max(s, align_score(toks_q, e.tokens))
    if s < 1.0 and len(toks_q) == 1 and len(e.tokens) == 1:
        # Single-token names (organisations, vessels): Jaro-Winkler rewards the shared prefix.
        s = max(s, 0.97 * JaroWinkler.normalized_similarity(compact_q, e.compact))
    return s


def query_form(name: str) -> tuple[str, str, str, tuple[str, ...]] | None:
    toks = tokens(name)
    if not toks:
        return None
    st = sorted(toks)
    return " ".join(st), "".join(st), "".join(toks), toks


class NameIndex:
    """Every name and alias of a set of list entries, blocked for fast fuzzy lookup."""

    def __init__(self, entries: Sequence[ListEntry]) -> None:
        self.entries = tuple(entries)
        names: list[IndexedName] = []
        for i, e in enumerate(self.entries):
            seen: set[str] = set()
            for field, raw in [("name", e.name), *(("alias", a) for a in e.aliases)]:
                for text in split_scripts(raw):
                    toks = tokens(text)
                    if not toks:
                        continue
                    st = sorted(toks)
                    key = " ".join(st)
                    if key in seen:
                        continue
                    seen.add(key)
                    rot = toks
                    if "," in text:
                        before, _, after = text.partition(",")
                        rot = tokens(after) + tokens(before) if tokens(after) else toks
                    names.append(IndexedName(i, field, text, toks, key, "".join(st), "".join(toks), "".join(rot),
                                             rot))
        self.names = tuple(names)
        pairs: dict[str, list[int]] = defaultdict(list)
        singles: dict[str, list[int]] = defaultdict(list)
        concat: dict[str, list[int]] = defaultdict(list)
        token_df: dict[str, int] = defaultdict(int)
        splits: dict[str, tuple[str, str]] = {}
        for n_id, n in enumerate(self.names):
            toks = sorted({t for t in n.tokens if len(t) >= 2})
            for t in toks:
                token_df[t] += 1
            if len(toks) == 1:
                singles[toks[0]].append(n_id)
            for i, a in enumerate(toks):
                for b in toks[i + 1:]:
                    pairs[f"{a} {b}"].append(n_id)
            for c in {n.compact, n.written, n.rotated}:
                concat[c].append(n_id)
            # Adjacent pairs, both orders, published and payment order: "mirjanamarkovic" is
            # the two tokens of "MARKOVIC, Mirjana" run together.
            for order in (n.tokens, n.rotated_tokens):
                for a, b in zip(order, order[1:], strict=False):
                    if len(a) >= 2 and len(b) >= 2:
                        splits.setdefault(a + b, (a, b))
                        splits.setdefault(b + a, (b, a))
        self._pairs = {k: tuple(v) for k, v in pairs.items()}
        self._singles = {k: tuple(v) for k, v in singles.items()}
        self._concat = {k: tuple(v) for k, v in concat.items()}
        self._splits = splits
        self.token_df = dict(token_df)
        keys: dict[str, set[str]] = defaultdict(set)
        for tok in token_df:
            for k in token_keys(tok):
                keys[k].add(tok)
        self._keys: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in keys.items()}

    def __len__(self) -> int:
        return len(self.names)

    def near(self, token: str) -> set[str]:
        """List tokens within one edit of ``token`` or sharing its consonant skeleton."""
        found: set[str] = set()
        get = self._keys.get
        for k in token_keys(token):
            hit = get(k)
            if hit:
                found.update(hit)
        return found

    def _slots(self, toks: Sequence[str], *, widen: bool) -> list[set[str]]:
        """For each query token, the list tokens it may stand for."""
        known = self.token_df
        slots: list[set[str]] = []
        for t in toks:
            if len(t) < 2:
                continue
            if t in known and not widen:
                slots.append({t})
                continue
            split = self._splits.get(t)
            if split is not None:
                slots.append({split[0]})
                slots.append({split[1]})
            alts = self.near(t)
            if t in known:
                alts.add(t)
            if alts:
                slots.append(alts)
        for a, b in zip(toks, toks[1:], strict=False):
            if a + b in known:
                slots.append({a + b})
        return slots

    def candidates(self, toks: Sequence[str]) -> list[int]:
        """Ids of the list names worth scoring against a query, most promising first.

        A name is a candidate when it holds two of the query's tokens (or their near
        spellings): pairs are specific, so this stays a handful of names even for "Mohammed
        Ali"; single-token queries meet single-token names; run-together names meet whole-name
        concatenations.
        """
        counts: dict[int, int] = {}
        for c in {"".join(toks), "".join(sorted(toks))}:
            for n_id in self._concat.get(c, ()):
                counts[n_id] = counts.get(n_id, 0) + 2
        self._collect(self._slots(toks, widen=False), counts)
        if not counts:
            # Nothing with the tokens as written: one of them may be a typo of another list token.
            self._collect(self._slots(toks, widen=True), counts)
        if len(counts) > TOP_CANDIDATES:
            return heapq.nlargest(TOP_CANDIDATES, counts, key=counts.__getitem__)
        return sorted(counts, key=counts.__getitem__, reverse=True)

    def _collect(self, slots: list[set[str]], counts: dict[int, int]) -> None:
        if len(slots) == 1:
            for t in slots[0]:
                for n_id in self._singles.get(t, ()):
                    counts[n_id] = counts.get(n_id, 0) + 1
            return
        pairs = self._pairs
        skipped: list[tuple[int, ...]] = []
        seen: set[str] = set()
        for i, si in enumerate(slots):
            for sj in slots[i + 1:]:
                for x in si:
                    for y in sj:
                        if x == y:
                            continue
                        key = f"{x} {y}" if x < y else f"{y} {x}"
                        if key in seen:
                            continue
                        seen.add(key)
                        post = pairs.get(key)
                        if post is None:
                            continue
                        if len(post) > PAIR_CAP:
                            skipped.append(post)
                            continue
                        for n_id in post:
                            counts[n_id] = counts.get(n_id, 0) + 1
        if not counts and skipped:
            for n_id in min(skipped, key=len):
                counts[n_id] = counts.get(n_id, 0) + 1

    def search(self, name: str, *, min_score: float) -> list[NameHit]:
        """Every list name scoring at least ``min_score`` against ``name``, best first."""
        q = query_form(name)
        if q is None:
            return []
        ids = self.candidates(q[3])
        if not ids:
            return []
        names = self.names
        cand = [names[i] for i in ids]
        if len(cand) > 8:
            quick = np.maximum(
                cdist([q[0]], [n.sorted_text for n in cand], scorer=Indel.normalized_similarity)[0],
                cdist([q[1]], [n.compact for n in cand], scorer=Indel.normalized_similarity)[0],
            ).tolist()
        else:
            sim = Indel.normalized_similarity
            quick = [max(sim(q[0], n.sorted_text), sim(q[1], n.compact)) for n in cand]
        hits: list[NameHit] = []
        n_q = len(q[3])
        # The token alignment (dropped middle names) and Jaro-Winkler only for the few most
        # promising candidates: by quick score and by blocking rank.
        refine = set(sorted(range(len(cand)), key=quick.__getitem__, reverse=True)[:ALIGN_CANDIDATES])
        refine.update(range(min(2, len(cand))))
        floor = min_score - 0.3
        for rank, n in enumerate(cand):
            s = quick[rank]
            if s < 1.0 and rank in refine and s >= floor:
                s = pair_score(q, n)
            if s >= min_score:
                hits.append(NameHit(n, s))
        hits.sort(key=lambda h: -h.score)
        return hits[:MAX_HITS]

    def full_scan(self, name: str, *, min_score: float) -> list[NameHit]:
        """The same scoring against every list name: the reference the index is measured against."""
        q = query_form(name)
        if q is None:
            return []
        hits = [NameHit(n, s) for n in self.names if (s := pair_score(q, n)) >= min_score]
        hits.sort(key=lambda h: -h.score)
        return hits


def bic_index(entries: Iterable[ListEntry]) -> dict[str, list[tuple[int, str]]]:
    """BIC11 and BIC8 -> (entry index, listed BIC)."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, e in enumerate(entries):
        for b in e.bics:
            b = b.upper()
            out[b].append((i, b))
            if len(b) == 11 and b.endswith("XXX"):
                out[b[:8]].append((i, b))
            elif len(b) == 8:
                out[b + "XXX"].append((i, b))
            out["8:" + b[:8]].append((i, b))
    return dict(out)
