"""`router bench screening` reports names never seen before apart: its cache clearing must empty
the per-name caches a screening call fills, and keep the per-token ones and the tables."""

from __future__ import annotations

from router.bench.screening import clear_name_caches
from router.screening import chinese, normalise
from router.screening.loaders import load_list
from router.screening.screener import Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings


def test_clearing_empties_the_per_name_caches_and_the_answer_stays() -> None:
    screener = Screener([load_list(DEMO_LIST)], ScreeningSettings())
    first = screener.screen_name("Ivan Petrovich Sidorov")
    screener.screen_name("Zhang Weiguo")
    near = screener.index._near_cached.cache_info().currsize
    words = chinese.token_readings.cache_info().currsize
    assert normalise.tokens.cache_info().currsize > 0 and near > 0
    clear_name_caches(screener)
    assert normalise.tokens.cache_info().currsize == 0  # keyed by the name
    assert screener.index._near_cached.cache_info().currsize == near  # keyed by a token: kept
    assert chinese.token_readings.cache_info().currsize == words > 0  # a word's readings: kept
    assert normalise._words.cache_info().currsize == 0  # a name's words: emptied
    assert screener.screen_name("Ivan Petrovich Sidorov") == first
