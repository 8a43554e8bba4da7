"""The garbage collector's settings for a long-running router process.

A worker holds a large, long-lived heap (the screening lists' index: ~300,000 tracked objects;
the corridor's cache of decoded payments) and allocates tens of thousands of short-lived objects
per payment, nearly all freed by reference counting. With CPython's default thresholds (700, 10,
10) the young generations are collected many times per payment and every full collection walks
the whole index: 0.25-0.5 ms of CPU per payment in the corridor stage with the lists loaded
(timed with ``gc.callbacks``), 15-20% of it; ~0.09 ms with these settings.
Freezing what start-up built (``gc.freeze``: the lists, the directory, imported modules) takes it
out of every later collection, and a larger first threshold collects the young generation ~14x
less often; cycles are still found, a little later.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle(gen0_threshold: int) -> None:
    """Call once start-up has built its long-lived state. ``gen0_threshold`` 0 keeps CPython's
    defaults (and freezes nothing)."""
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    log.debug("gc: %d objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold())
