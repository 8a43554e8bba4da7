"""Name, BIC and country screening against the shipped fictional list, with explanations."""

from __future__ import annotations

import pytest

from router.screening.loaders import load_list
from router.screening.screener import EMBARGO_LIST, HIGH_RISK_LIST, Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener([load_list(DEMO_LIST)], ScreeningSettings())


@pytest.mark.parametrize(("query", "entry"), [
    ("Zhao Weiming", "900001"),          # token order
    ("赵伟明", "900001"),                 # Chinese script -> pinyin list name
    ("Weiming ZHAO", "900001"),
    ("Lin Xiaohong", "900002"),          # pinyin query -> listed pinyin (alias in Chinese script too)
    ("林小红", "900002"),
    ("欧阳建国", "900003"),               # compound surname
    ("Felix Mordant", "900009"),         # dropped middle name
    ("Felix Augustin Mordnat", "900009"),  # typo
    ("Ivan Petrovskii", "900006"),       # alias
    ("Golden Lotus Shipping Company Limited", "900008"),  # legal forms
    ("金莲航运", "900008"),               # Chinese-script company alias
    ("Harrowgate Maritime Holdings", "900004"),
    ("Mr. Dalong Wang", "900012"),       # honorific
    ("Marisol Beatriz Quentaro", "900013"),
])
def test_variants_are_found_with_an_explanation(screener: Screener, query: str, entry: str) -> None:
    matches = screener.screen_name(query, party="debtor")
    assert matches, f"{query!r} not matched"
    top = matches[0]
    assert top.entry == entry
    assert top.list == "DEMO" and top.list_version.startswith("DEMO@")
    assert top.field in ("name", "alias") and top.party == "debtor" and top.screened == query
    assert screener.settings.hold_score <= top.score <= 1.0


@pytest.mark.parametrize("query", ["John Smith", "Maria Garcia", "王芳", "Acme Trading Ltd", "Felix", "Zhao"])
def test_clean_names_do_not_match(screener: Screener, query: str) -> None:
    assert screener.screen_name(query) == []


def test_pinyin_name_matches_its_chinese_script_alias_field(screener: Screener) -> None:
    # The Chinese-script alias of entry 900010 does not exist, but 900008's does: the match
    # must name the alias that matched, not just the entry.
    (m,) = screener.screen_name("Jinlian Hangyun")
    assert m.entry == "900008" and m.field == "alias" and m.matched == "金莲航运有限公司"


def test_exact_name_rejects_fuzzy_name_holds(screener: Screener) -> None:
    assert screener.outcome_of(screener.screen_name("Weiming Zhao")) == "reject"
    assert screener.outcome_of(screener.screen_name("Felix Mordant")) == "hold"
    assert screener.outcome_of(screener.screen_name("Nobody Inparticular")) == "clear"


def test_bic_exact_bic8_and_branch(screener: Screener) -> None:
    (exact,) = screener.screen_bic("HRWGGB2LXXX", party="creditor_agent")
    assert exact.field == "bic" and exact.score == 1.0 and exact.entry == "900004"
    assert screener.screen_bic("HRWGGB2L")[0].score == 1.0
    (branch,) = screener.screen_bic("HRWGGB2L123")
    assert branch.score == 0.95 and screener.outcome_of([branch]) == "hold"
    assert screener.screen_bic("GLSHHKHH")[0].entry == "900008"  # listed as BIC11 with XXX
    assert screener.screen_bic("DEUTDEFFXXX") == []


def test_countries_from_settings() -> None:
    s = Screener([load_list(DEMO_LIST)], ScreeningSettings(embargoed_countries=("KP",),
                                                                 high_risk_countries=("MM",)))
    (kp,) = s.screen_country("kp", party="creditor")
    assert kp.list == EMBARGO_LIST and s.outcome_of([kp]) == "reject"
    (mm,) = s.screen_country("MM")
    assert mm.list == HIGH_RISK_LIST and s.outcome_of([mm]) == "hold"
    assert s.screen_country("DE") == [] and s.screen_country(None) == []


def test_index_agrees_with_full_scan_on_the_shipped_list(screener: Screener) -> None:
    idx = screener.index
    queries = ["Zhao Wei Ming", "Felix Mordant", "Petrovsky Ivan", "Sea Whisper", "Golden Lotus", "Xiaohong Lin",
               "Northern Star Exchange", "Kestrel Dynamics", "Banco Ficticio del Norte", "Al Fictus Trading"]
    for q in queries:
        fast = {(h.name.entry, round(h.score, 6)) for h in idx.search(q, min_score=0.88)}
        full = {(h.name.entry, round(h.score, 6)) for h in idx.full_scan(q, min_score=0.88)}
        assert fast and {e for e, _ in fast} == {e for e, _ in full}, q
