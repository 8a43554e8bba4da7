"""Blocking index and fuzzy scorer for list names.

Comparing a screened name with every list name costs milliseconds against the SDN list; the
goal is ~50 us. The index narrows the comparison to a handful of candidates without losing the
variants a full scan would find:

1. Token pairs. Every list name is indexed under each pair of its tokens ("fangwei li"). A
   screened name looks up its own token pairs: two shared tokens are specific even when each
   token alone is common ("Mohammed Ali" holds thousands of names per token, a few per pair).
   Swapped tokens and dropped middle names keep pairs intact; a typo breaks only the pairs of
   one token.
2. Near tokens. A screened token the list does not know (a typo, another transliteration) is
   replaced by the list tokens one edit away, found through shared one-character deletions
   (the SymSpell idea: any single substitution, insertion, deletion or transposition meets a
   shared deletion key), or failing that a shared consonant skeleton (Mohammed / Muhammad).
   Rare list tokens are also widened when nothing else matched (a typo that happens to be
   another list word).
3. Spacing. Whole names without spaces, and every adjacent pair of tokens run together (both
   orders, published and payment order), are indexed, so "MirjanaMARKOVIC" and "Constan tine"
   still meet their entries. One-word names are indexed alone for short queries.
4. Scoring. Candidates are scored with rapidfuzz: Indel ratio of the token-sorted names
   (token order), of the space-free names (spacing), in written order (Chinese
   surname-first vs payment order), a token alignment that tolerates dropped middle names,
   and Jaro-Winkler for one-word names. The score is the best of these, 0..1.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import chain, pairwise
from operator import itemgetter
from typing import Literal

import numpy as np
from rapidfuzz.distance import Indel, JaroWinkler
from rapidfuzz.process import cdist

from router.screening.chinese import is_short
from router.screening.model import ListEntry
from router.screening.normalise import split_scripts, tokens

# Token pairs shared by more names than this ("al mohammed") block only when nothing else does.
PAIR_CAP = 48
# Candidates scored per query after blocking.
TOP_CANDIDATES = 24
# Hits reported per screened name (the best ones; explanations stay readable).
MAX_HITS = 5
# Upper bound on candidates refined because their quick score is close to the threshold.
MAX_REFINE = 8
# Only list tokens this rare are suspected of being another token's typo.
WIDEN_DF = 3
# Candidates whose quick score is this close below the threshold get the full score.
REFINE_BELOW = 0.25
# Near spellings remembered per index: a token unknown to the list (a typo, a name the list does
# not hold) costs a deletion-key lookup per letter, and real traffic repeats its names.
NEAR_CACHE = 16384
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
    field: Literal["name", "alias"]
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


def align_score(q: Sequence[str], e: Sequence[str]) -> float:
    """Query tokens matched one-to-one into the entry's tokens; unmatched entry tokens cost a little.

    This is what finds "Abdul Karim Hassan" dropped to "Abdul Hassan"; two matched tokens at
    least, so a lone common given name never scores high against a long name. An initial
    ("J.") stands for any token with that first letter.
    """
    if len(q) < 2 or len(e) < 2:
        return 0.0
    shared = set(q) & set(e)
    if len(shared) == len(q) and len(set(q)) == len(q):
        # Every query token is in the name as written: only the unmatched entry tokens count.
        return 1.0 - 0.04 * (len(e) - len(q))
    m = cdist(q, e, scorer=Indel.normalized_similarity).tolist()
    if min(map(len, q)) == 1 or min(map(len, e)) == 1:
        for i, t in enumerate(q):
            for j, u in enumerate(e):
                if (len(t) == 1 or len(u) == 1) and t[0] == u[0]:
                    m[i][j] = max(m[i][j], 0.9)
    used: set[int] = set()
    total = 0.0
    weight = 0
    strong = 0
    for n, i in sorted(((len(t), i) for i, t in enumerate(q)), reverse=True):
        row = m[i]
        best = max(row)
        best_j = row.index(best)
        if best_j in used:
            best, best_j = 0.0, -1
            for j, sim in enumerate(row):
                if sim > best and j not in used:
                    best, best_j = sim, j
        if best_j >= 0 and best >= 0.75:
            used.add(best_j)
            strong += 1
        total += best * n
        weight += n
    if strong < 2:
        return 0.0
    return (total / weight) * (1.0 - 0.04 * (len(e) - len(used)) - 0.15 * (len(q) - len(used)))


def align_bound(n_q: int, n_e: int) -> float:
    """The best ``align_score`` two names of these lengths can reach."""
    return 1.0 - 0.04 * max(0, n_e - n_q) - 0.15 * max(0, n_q - n_e)


def pair_score(q: tuple[str, str, str, tuple[str, ...]], e: IndexedName, quick: float | None = None) -> float:
    """The full score of a screened name (``query_form``) against one list name, 0..1.

    ``quick`` is the already computed best of the sorted and space-free ratios, if known.
    """
    sorted_q, compact_q, written_q, toks_q = q
    sim = Indel.normalized_similarity
    if quick is None:
        quick = max(sim(sorted_q, e.sorted_text), sim(compact_q, e.compact))
    s = max(quick, sim(written_q, e.written))
    if s < 1.0 and e.rotated != e.written:
        s = max(s, Indel.normalized_similarity(written_q, e.rotated))
    # A two-syllable Chinese name inside a longer name ("Yuan Wei" in "WEI, Hsueh Yuan") is not a
    # dropped middle name: thousands of people share those two syllables.
    if (s < 1.0 and len(e.tokens) != len(toks_q) and align_bound(len(toks_q), len(e.tokens)) > s
            and not is_short(toks_q)):
        s = max(s, align_score(toks_q, e.tokens))
    if s < 1.0 and len(toks_q) == 1 and len(e.tokens) == 1:
        # Single-token names (organisations, vessels): Jaro-Winkler rewards the shared prefix.
        s = max(s, 0.97 * JaroWinkler.normalized_similarity(compact_q, e.compact))
    return s


@lru_cache(maxsize=65536)  # per name, as ``tokens`` is
def query_form(name: str) -> tuple[str, str, str, tuple[str, ...]] | None:
    toks = tokens(name)
    if not toks:
        return None
    st = sorted(toks)
    return " ".join(st), "".join(st), "".join(toks), toks


def _near(keys: dict[str, tuple[str, ...]], token: str, *, skeletons: bool = True) -> set[str]:
    """``NameIndex.near`` over an index's deletion keys (a function, so that a cache of it holds no index)."""
    found: set[str] = set()
    get = keys.get
    hit = get(token)
    if hit:
        found.update(hit)
    if len(token) >= 4:
        for i in range(len(token)):
            hit = get(token[:i] + token[i + 1:])
            if hit:
                found.update(hit)
    # The skeleton reaches other transliterations; only needed when no spelling is one
    # edit away (a skeleton alone can match dozens of tokens).
    if skeletons and not found and len(token) >= 3:
        found.update(get("#" + skeleton(token), ()))
    return found


def _take_pairs(pairs: list[tuple[int, ...]], posts: list[tuple[int, ...]]) -> None:
    """Add the postings of the token pairs a query shares with list names. A pair on more than
    ``PAIR_CAP`` names is too common to narrow anything: such pairs count only when no other pair
    matched, and then only the rarest of them."""
    kept = [post for post in pairs if len(post) <= PAIR_CAP]
    if kept:
        posts += kept
    elif pairs:
        posts.append(min(pairs, key=len))


class NameIndex:
    """Every name and alias of a set of list entries, blocked for fast fuzzy lookup."""

    def __init__(self, entries: Sequence[ListEntry]) -> None:
        self.entries = tuple(entries)
        names: list[IndexedName] = []
        for i, e in enumerate(self.entries):
            seen: set[str] = set()
            named: list[tuple[Literal["name", "alias"], str]] = [("name", e.name)]
            named += [("alias", a) for a in e.aliases]
            for field, raw in named:
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
            distinct = sorted({t for t in n.tokens if len(t) >= 2})
            for t in distinct:
                token_df[t] += 1
            if len(distinct) == 1:
                singles[distinct[0]].append(n_id)
            for i, a in enumerate(distinct):
                for b in distinct[i + 1:]:
                    pairs[f"{a} {b}"].append(n_id)
            for c in {n.compact, n.written, n.rotated}:
                concat[c].append(n_id)
            # Adjacent pairs, both orders, published and payment order: "mirjanamarkovic" is
            # the two tokens of "MARKOVIC, Mirjana" run together.
            for order in (n.tokens, n.rotated_tokens):
                for a, b in pairwise(order):
                    if len(a) >= 2 and len(b) >= 2:
                        splits.setdefault(a + b, (a, b))
                        splits.setdefault(b + a, (b, a))
        self._pairs = {k: tuple(v) for k, v in pairs.items()}
        # The same by token: token -> partner token -> names holding both. A query slot's
        # alternatives are then intersected with a token's partners instead of trying every
        # combination (two near-spelled tokens of 20 alternatives each were 400 lookups).
        partners: dict[str, dict[str, tuple[int, ...]]] = defaultdict(dict)
        for k, post in self._pairs.items():
            a, b = k.split(" ")
            partners[a][b] = post
            partners[b][a] = post
        self._partners = dict(partners)
        self._singles = {k: tuple(v) for k, v in singles.items()}
        self._concat = {k: tuple(v) for k, v in concat.items()}
        self._splits = splits
        self.token_df = dict(token_df)
        keys: dict[str, set[str]] = defaultdict(set)
        for tok in token_df:
            for k in token_keys(tok):
                keys[k].add(tok)
        self._keys: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in keys.items()}
        self._neighbours: dict[str, tuple[str, ...]] = {}
        # Shared by the queries that meet the token: read only, never changed. (Over the keys,
        # not ``self.near``: a cache holding the index would keep an old one alive after a reload.)
        self._near_cached = lru_cache(maxsize=NEAR_CACHE)(partial(_near, self._keys))
        self._partnered: dict[int, tuple[AbstractSet[str], list[dict[str, tuple[int, ...]]]]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def names_with_all(self, toks: Sequence[str]) -> set[int]:
        """Ids of the list names holding every one of ``toks`` (two or more distinct tokens)."""
        uniq = sorted({t for t in toks if len(t) >= 2})
        if len(uniq) < 2:
            return set()
        found: set[int] | None = None
        for i, a in enumerate(uniq):
            for b in uniq[i + 1:]:
                post = set(self._pairs.get(f"{a} {b}", ()))
                found = post if found is None else found & post
                if not found:
                    return set()
        return found or set()

    def near(self, token: str, *, skeletons: bool = True) -> set[str]:
        """List tokens within one edit of ``token`` (shared deletion key) or, with
        ``skeletons``, sharing its consonant skeleton (Mohammed / Muhammad)."""
        return _near(self._keys, token, skeletons=skeletons)

    def _edit_neighbours(self, token: str) -> tuple[str, ...]:
        cached = self._neighbours.get(token)
        if cached is None:
            cached = tuple(self.near(token, skeletons=False) - {token})
            self._neighbours[token] = cached
        return cached

    def _slots(self, toks: Sequence[str]) -> tuple[list[AbstractSet[str]], list[int]]:
        """For each query token, the list tokens it may stand for; and which slots are exact
        list tokens (those are widened to their neighbours only if nothing else is found)."""
        known = self.token_df
        slots: list[AbstractSet[str]]
        exact: list[int]
        if all(map(known.__contains__, toks)):
            # Every token is a list token (so 2+ letters), as in most names: each stands for itself.
            slots = [{t} for t in toks]
            exact = list(range(len(slots)))
        else:
            slots, exact = self._unknown_slots(toks)
        for a, b in pairwise(toks):
            if a + b in known:
                slots.append({a + b})
        return slots, exact

    def _unknown_slots(self, toks: Sequence[str]) -> tuple[list[AbstractSet[str]], list[int]]:
        """``_slots`` of a name with a token the list does not hold: near spellings, splits."""
        known = self.token_df
        slots: list[AbstractSet[str]] = []
        exact: list[int] = []
        # "Constan tine": two fragments that form a list token stand for that token alone.
        consumed: set[int] = set()
        for i, (a, b) in enumerate(pairwise(toks)):
            if a not in known and a + b in known:
                consumed.update((i, i + 1))
        for pos, t in enumerate(toks):
            if len(t) < 2 or (pos in consumed and t not in known):
                continue
            if t in known:
                exact.append(len(slots))
                slots.append({t})
                continue
            split = self._splits.get(t)
            if split is not None:
                slots.append({split[0]})
                slots.append({split[1]})
            alts = self._near_cached(t)
            if alts:
                slots.append(alts)
        return slots, exact

    def candidates(self, toks: Sequence[str], forms: Iterable[str] = ()) -> tuple[list[int], set[int]]:
        """Ids of the list names worth scoring against a query, most promising first, and the
        ids that matched as a whole run-together name (their quick score says little).

        A name is a candidate when it holds two of the query's tokens (or their near
        spellings): pairs are specific, so this stays a handful of names even for "Mohammed
        Ali"; short queries also meet one-word list names; run-together names meet
        whole-name concatenations.
        """
        posts: list[tuple[int, ...]] = []
        merged: set[int] = set()
        for c in set(forms) or {"".join(toks), "".join(sorted(toks))}:
            post = self._concat.get(c)
            if post:
                merged.update(post)
                posts.append(post)
        known = self.token_df
        if all(map(known.__contains__, toks)):
            # Every token is a list token (so 2+ letters), as in most names: each stands for itself,
            # and the lookups need no sets of alternatives.
            words = [*toks, *(a + b for a, b in pairwise(toks) if a + b in known)]
            self._collect_words(words, posts)
            slots: list[AbstractSet[str]] = [{w} for w in words] if not posts else []
            exact = list(range(len(toks)))
        else:
            slots, exact = self._slots(toks)
            self._collect(slots, posts, None)
        if not posts:
            # Nothing with the tokens as written: one of them may be a typo that happens to be
            # another list token. Widen one token at a time (one typo per name is the norm).
            df = self.token_df
            for i in exact:
                token = next(iter(slots[i]))
                if df[token] > WIDEN_DF:
                    continue  # a common spelling ("John") is meant as written, not a typo
                wide = self._edit_neighbours(token)
                if wide:
                    self._collect([*slots[:i], set(wide), *slots[i + 1:]], posts, i)
        if not posts:
            return [], merged
        if len(posts) == 1:
            return list(posts[0][:TOP_CANDIDATES]), merged
        ids = list(dict.fromkeys(chain.from_iterable(posts)))
        if len(ids) <= TOP_CANDIDATES:
            return ids, merged
        # Too many: keep the names that share the most query-token pairs. (A stable sort: what
        # Counter.most_common's heap returns, first seen first among equals, without the heap.)
        counts = Counter(chain.from_iterable(posts))
        return [n for n, _ in sorted(counts.items(), key=itemgetter(1), reverse=True)[:TOP_CANDIDATES]], merged

    def _alternatives_partners(self, alts: AbstractSet[str]) -> list[dict[str, tuple[int, ...]]]:
        """The partners of each of a slot's alternatives, remembered per set: the alternatives of
        an unknown token are the one set ``_near_cached`` keeps for it, met again by every name
        with that token. Keyed by identity, the set held so that its id is not reused."""
        seen = self._partnered.get(id(alts))
        if seen is not None and seen[0] is alts:
            return seen[1]
        partners_of = self._partners
        found = [p for x in alts if (p := partners_of.get(x)) is not None]
        if len(self._partnered) >= NEAR_CACHE:
            self._partnered.clear()
        self._partnered[id(alts)] = (alts, found)
        return found

    def _add_singles(self, tokens: Iterable[str], posts: list[tuple[int, ...]]) -> None:
        """The list names that are one of ``tokens`` on its own."""
        singles = self._singles
        for t in tokens:
            post = singles.get(t)
            if post:
                posts.append(post)

    def _collect_words(self, words: Sequence[str], posts: list[tuple[int, ...]]) -> None:
        """``_collect`` of slots that are one token each (``focus`` None): the same postings, found
        with plain lookups."""
        if len(words) <= 2:
            self._add_singles(words, posts)
            if len(words) < 2:
                return
        partners_of = self._partners
        pairs: list[tuple[int, ...]] = []
        for i, x in enumerate(words):
            partners = partners_of.get(x)
            if partners is None:
                continue
            for y in words[i + 1:]:
                post = partners.get(y)
                if post is not None:
                    pairs.append(post)
        _take_pairs(pairs, posts)

    def _collect(self, slots: list[AbstractSet[str]], posts: list[tuple[int, ...]], focus: int | None) -> None:
        if len(slots) <= 2 and focus is None:
            # Short queries may be a one-word list name ("MANAURE S.A.") with noise around it.
            self._add_singles([t for slot in slots for t in slot], posts)
        if len(slots) < 2:
            return
        partners_of = self._partners
        pairs: list[tuple[int, ...]] = []
        # Each slot's tokens with their partners, looked up once rather than once per other slot.
        partnered: list[list[dict[str, tuple[int, ...]]]] = []
        for si in slots:
            if len(si) == 1:
                (x,) = si
                p = partners_of.get(x)
                partnered.append([p] if p is not None else [])
            elif focus is None:
                partnered.append(self._alternatives_partners(si))
            else:  # a widened slot is a set made for this call: nothing to remember
                partnered.append([p for x in si if (p := partners_of.get(x)) is not None])
        for i, pi in enumerate(partnered):
            if not pi:
                continue
            for j in range(i + 1, len(slots)):
                if focus is not None and focus not in (i, j):
                    continue
                sj = slots[j]
                if len(sj) == 1:
                    # Most slots are one exact token: a lookup, no intersection.
                    (y,) = sj
                    for partners in pi:
                        post = partners.get(y)
                        if post is not None:
                            pairs.append(post)
                    continue
                for partners in pi:
                    if len(sj) <= len(partners):
                        ys = [y for y in sj if y in partners]
                    else:
                        ys = [y for y in partners if y in sj]
                    pairs += [partners[y] for y in ys]
        _take_pairs(pairs, posts)

    def search(self, name: str, *, min_score: float) -> list[NameHit]:
        """Every list name scoring at least ``min_score`` against ``name``, best first."""
        q = query_form(name)
        if q is None:
            return []
        ids, merged = self.candidates(q[3], (q[1], q[2]))
        if not ids:
            return []
        names = self.names
        cand = [names[i] for i in ids]
        sim = Indel.normalized_similarity
        if len(cand) > 8:
            quick = np.maximum(
                cdist([q[0]], [n.sorted_text for n in cand], scorer=sim)[0],
                cdist([q[1]], [n.compact for n in cand], scorer=sim)[0],
            ).tolist()
        else:
            q0, q1 = q[0], q[1]
            quick = [max(sim(q0, n.sorted_text), sim(q1, n.compact)) for n in cand]
        # Refining (written order, token alignment for dropped middle names, Jaro-Winkler) can
        # only raise a score: worth it for the few near misses and for run-together names.
        floor = min_score - REFINE_BELOW
        near = [i for i, s in enumerate(quick) if floor <= s < min_score]
        if len(near) > MAX_REFINE:
            near = sorted(near, key=quick.__getitem__, reverse=True)[:MAX_REFINE]
        refine = set(near)
        if merged:
            refine.update(i for i, n_id in enumerate(ids) if n_id in merged and quick[i] < 1.0)
        hits: list[NameHit] = []
        for i, n in enumerate(cand):
            s = quick[i]
            if i in refine:
                s = pair_score(q, n, s)
            if s >= min_score:
                hits.append(NameHit(n, s))
        if len(hits) > 1:
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
    """BIC8 (institution) -> (entry index, BIC as listed)."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, e in enumerate(entries):
        for b in e.bics:
            out[b.strip().upper()[:8]].append((i, b.strip().upper()))
    return dict(out)
