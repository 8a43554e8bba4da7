"""The current list set, reloaded without a restart when the list files change.

``ListStore.refresh()`` compares a cheap signature of the configured files (path, size,
mtime) and rebuilds the ``Screener`` only when it changed; the swap is a single reference
assignment, so a screening in flight finishes on the version it started with. A list that
fails to load keeps the previous version in service (and says so) rather than screening
against nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from router.screening.loaders import files_signature, load_list
from router.screening.model import ListVersion
from router.screening.screener import Screener
from router.screening.settings import ScreeningSettings

log = logging.getLogger(__name__)


class ListStore:
    def __init__(self, settings: ScreeningSettings, *, paths: Callable[[], tuple[Path, ...]] | None = None) -> None:
        self.settings = settings
        self._paths = paths or settings.configured_lists
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._screener: Screener | None = None
        self.last_error: str | None = None

    @property
    def screener(self) -> Screener:
        if self._screener is None:
            self.refresh()
        if self._screener is None:
            raise RuntimeError(f"no sanctions list could be loaded: {self.last_error}")
        return self._screener

    @property
    def versions(self) -> tuple[ListVersion, ...]:
        return self.screener.versions

    def refresh(self) -> bool:
        """Reload if the list files changed. True when a new version was put in service."""
        paths = self._paths()
        sig = files_signature(paths)
        if sig == self._signature and self._screener is not None:
            return False
        try:
            lists = [load_list(p) for p in paths]
        except (OSError, ValueError) as exc:
            self.last_error = str(exc)
            log.error("sanctions list reload failed, keeping the previous version: %s", exc)
            return False
        self._screener = Screener(lists, self.settings)
        self._signature = sig
        self.last_error = None
        log.info("sanctions lists in service: %s", ", ".join(v.label for v in self._screener.versions))
        return True


async def poll_forever(store: ListStore, interval_s: float | None = None) -> None:
    """Check the list files every ``list_poll_seconds`` and swap in new versions.

    The rebuild (seconds for a full list) runs in a thread so the event loop keeps serving;
    screening continues on the old version until the new one is complete.
    """
    import asyncio

    interval = interval_s if interval_s is not None else store.settings.list_poll_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(store.refresh)
        except Exception:  # a bad list must never stop the worker; refresh logs and keeps the old one
            log.exception("sanctions list poll failed")
