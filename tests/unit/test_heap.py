"""router.heap: the worker processes' garbage-collector settings."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from router import heap
from router.config import Settings


@pytest.fixture
def gc_state() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("gc_state")
def test_settle_freezes_start_up_objects_and_raises_the_first_threshold() -> None:
    built_at_start_up = [[i] for i in range(1000)]  # tracked containers, like the lists' index
    heap.settle(Settings().gc_gen0_threshold)
    assert gc.get_threshold()[0] == 10_000
    assert gc.get_freeze_count() >= len(built_at_start_up)
    assert gc.get_count()[0] < 100  # the young generation was emptied into the frozen set


@pytest.mark.usefixtures("gc_state")
def test_zero_keeps_cpythons_defaults() -> None:
    before = gc.get_threshold()
    heap.settle(0)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_threshold_is_a_setting() -> None:
    assert Settings(gc_gen0_threshold=0).gc_gen0_threshold == 0
    with pytest.raises(ValueError):
        Settings(gc_gen0_threshold=-1)
