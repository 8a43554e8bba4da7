"""Screen names, BICs and countries against the loaded lists and the country settings.

A ``Screener`` is built once per set of list versions (the index build takes a few seconds
for the full SDN list) and then answers in tens of microseconds. Every match says which list
(and which version of it), which entry, which field and which score, so an analyst can see
why a payment was stopped.
"""

from __future__ import annotations

from collections.abc import Sequence

from router.screening.index import IndexedName, NameIndex, bic_index
from router.screening.model import Field_, ListEntry, ListVersion, Match, Outcome, SanctionsList
from router.screening.settings import ScreeningSettings

EMBARGO_LIST = "EMBARGOED-COUNTRIES"
HIGH_RISK_LIST = "HIGH-RISK-COUNTRIES"
# A listed bank's other branch: very likely the same institution, but a human should look.
BIC8_SCORE = 0.95


def canonical_bic(bic: str) -> str:
    b = bic.strip().upper()
    return b + "XXX" if len(b) == 8 else b


class Screener:
    def __init__(self, lists: Sequence[SanctionsList], settings: ScreeningSettings) -> None:
        self.settings = settings
        self.lists = tuple(lists)
        entries: list[ListEntry] = []
        self._owner: list[ListVersion] = []
        for lst in self.lists:
            entries.extend(lst.entries)
            self._owner.extend([lst.version] * len(lst.entries))
        self.index = NameIndex(entries)
        self._labels = {id(lst.version): lst.version.label for lst in self.lists}
        self._bics = bic_index(entries)

    @property
    def versions(self) -> tuple[ListVersion, ...]:
        return tuple(lst.version for lst in self.lists)

    def _match(self, i: int, field: Field_, matched: str, screened: str, party: str, score: float) -> Match:
        e, v = self.index.entries[i], self._owner[i]
        # (pydantic-core validation is faster here than model_construct's Python path.)
        return Match(list=v.source, list_version=self._labels[id(v)], entry=e.uid, entry_name=e.name, field=field,
                     matched=matched, screened=screened, party=party, score=round(min(score, 1.0), 4))

    def screen_name(self, name: str | None, *, party: str = "", original: str | None = None) -> list[Match]:
        """Name matches at or above the hold score, best per list entry, best first."""
        # Best hit per list entry first (aliases of one entry collapse), explanations after.
        best: dict[int, tuple[float, IndexedName, str]] = {}
        threshold = self.settings.hold_score
        for value in (name, original):
            if not value or not value.strip():
                continue
            for hit in self.index.search(value, min_score=threshold):
                n = hit.name
                seen = best.get(n.entry)
                if seen is None or seen[0] < hit.score:
                    best[n.entry] = (hit.score, n, value)
            if value is name and original and original.strip() == (name or "").strip():
                break
        ranked = sorted(best.values(), key=lambda b: -b[0]) if len(best) > 1 else best.values()
        return [self._match(n.entry, n.field, n.text, value, party, score) for score, n, value in ranked]

    def screen_bic(self, bic: str | None, *, party: str = "") -> list[Match]:
        """Exact BIC (BIC8 = BIC8 + "XXX") scores 1; another branch of a listed BIC8 scores 0.95."""
        if not bic:
            return []
        wanted = canonical_bic(bic)
        found: dict[tuple[str, str], Match] = {}
        for i, listed in self._bics.get(wanted[:8], ()):
            score = 1.0 if canonical_bic(listed) == wanted else BIC8_SCORE
            m = self._match(i, "bic", listed, bic.strip().upper(), party, score)
            k = (m.list, m.entry)
            if k not in found or found[k].score < score:
                found[k] = m
        return sorted(found.values(), key=lambda m: -m.score)

    def screen_country(self, country: str | None, *, party: str = "") -> list[Match]:
        if not country:
            return []
        cc = country.strip().upper()
        s = self.settings
        if cc in s.embargoed_countries:
            return [Match(list=EMBARGO_LIST, list_version="settings", entry=cc, entry_name=cc, field="country",
                          matched=cc, screened=cc, party=party, score=1.0)]
        if cc in s.high_risk_countries:
            return [Match(list=HIGH_RISK_LIST, list_version="settings", entry=cc, entry_name=cc, field="country",
                          matched=cc, screened=cc, party=party, score=s.hold_score)]
        return []

    def outcome_of(self, matches: Sequence[Match]) -> Outcome:
        """Reject at or above the reject score or on an embargoed country; hold on any other match."""
        if not matches:
            return "clear"
        for m in matches:
            if m.list == EMBARGO_LIST or (m.list != HIGH_RISK_LIST and m.score >= self.settings.reject_score):
                return "reject"
        return "hold"
