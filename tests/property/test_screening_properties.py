"""Properties of normalisation, scoring, screening and the structuring rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from router.screening.index import pair_score, query_form
from router.screening.loaders import load_list
from router.screening.model import Party, ScreeningRequest
from router.screening.normalise import normalise, tokens
from router.screening.rules import PastPayment, structuring
from router.screening.screener import Screener
from router.screening.settings import DEMO_LIST, ScreeningSettings

SCREENER = Screener([load_list(DEMO_LIST)], ScreeningSettings())
NAME_TOKEN = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo")), min_size=1, max_size=12)
NAMES = st.lists(NAME_TOKEN, min_size=1, max_size=5).map(" ".join)


@given(st.text(max_size=80))
def test_tokens_are_plain_lowercase_ascii(text: str) -> None:
    for t in tokens(text):
        assert t and t.isascii() and t == t.lower() and t.isalnum()


@given(NAMES)
def test_normalise_is_idempotent(name: str) -> None:
    once = normalise(name)
    assert normalise(once) == once


@given(st.lists(st.sampled_from(["ali", "hassan", "mohammed", "zhao", "weiming", "felix", "mordant", "ivan"]),
                min_size=2, max_size=4, unique=True), st.randoms())
def test_token_order_never_changes_the_outcome(words: list[str], rnd: object) -> None:
    shuffled = words[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = {(m.entry, m.score) for m in SCREENER.screen_name(" ".join(words))}
    b = {(m.entry, m.score) for m in SCREENER.screen_name(" ".join(shuffled))}
    assert {e for e, _ in a} == {e for e, _ in b}


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_screening_arbitrary_text_is_safe_and_scores_are_bounded(text: str) -> None:
    for m in SCREENER.screen_name(text, original=text[::-1]):
        assert SCREENER.settings.hold_score <= m.score <= 1.0
        assert m.field in ("name", "alias")
    assert SCREENER.outcome_of(SCREENER.screen_name(text)) in ("clear", "hold", "reject")


@given(NAMES, NAMES)
def test_pair_score_is_bounded_and_exact_names_score_one(a: str, b: str) -> None:
    qa = query_form(a)
    if qa is None:
        return
    for n in SCREENER.index.names[:5]:
        assert 0.0 <= pair_score(qa, n) <= 1.0
    exact = query_form(SCREENER.index.names[0].text)
    assert exact is not None and pair_score(exact, SCREENER.index.names[0]) == 1.0


@given(st.lists(st.integers(min_value=0, max_value=48 * 60), max_size=8),
       st.decimals(min_value=Decimal("9000"), max_value=Decimal("9999.99"), places=2))
def test_structuring_is_monotonic_in_history(minutes_ago: list[int], amount: Decimal) -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    s = ScreeningSettings()
    req = ScreeningRequest(uetr="u", debtor=Party(name="a"), creditor=Party(name="b"), amount=amount, currency="USD")
    history = tuple(PastPayment(now - timedelta(minutes=m), Decimal("9500"), "USD") for m in minutes_ago)
    fired = bool(structuring(req, history, now, s))
    in_window = sum(1 for m in minutes_ago if m * 60 < s.structuring_window_seconds)
    assert fired == (in_window + 1 >= s.structuring_count)
    more = (*history, PastPayment(now - timedelta(minutes=1), Decimal("9100"), "USD"))
    assert fired <= bool(structuring(req, more, now, s))
