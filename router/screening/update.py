"""Fetch the current official lists into a watched list directory, safely.

A new version is downloaded into a hidden folder of the list directory (``list_files_in``
skips hidden paths, so a worker polling the directory never sees half a list), validated with
the same loaders the workers use, compared with the version it replaces, and only then renamed
into a dated folder (``ofac-sdn-YYYY-MM-DD/``, ``un-sc-YYYY-MM-DD/``). A file that does not
parse, or a list far smaller than the one in service (a truncated download, an error page),
is refused and the list in service stays.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from router.screening.loaders import MAX_LIST_BYTES, ListFormatError, list_files_in, load_list
from router.screening.model import ListEntry, SanctionsList
from router.screening.settings import DEFAULT_LISTS

Source = Literal["ofac", "un"]
SOURCES: tuple[Source, ...] = ("ofac", "un")
OFAC_BASE_URL = "https://www.treasury.gov/ofac/downloads/"
OFAC_FILES = ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")
UN_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
# A real list shrinks by delistings, a few percent a year; a download with under this share of
# the entries in service is far more likely truncated or the wrong file.
MIN_SHARE = 0.8
_LIST_SOURCE = {"ofac": "OFAC-SDN", "un": "UN-SC"}
_FOLDER = {"ofac": "ofac-sdn", "un": "un-sc"}


class UpdateError(Exception):
    """A download that cannot be used; the list in service is unchanged."""


@dataclass(frozen=True)
class Update:
    """What one source's update found and did."""

    source: Source
    new: SanctionsList
    baseline: SanctionsList | None  # the version it replaces (in the directory, else shipped)
    folder: Path | None  # where it was written; None when unchanged
    added: tuple[ListEntry, ...] = field(default=())
    removed: tuple[ListEntry, ...] = field(default=())
    changed: tuple[ListEntry, ...] = field(default=())


def fetch(url: str, timeout_s: float = 60.0) -> bytes:
    """The body at ``url`` (http or https only), at most ``MAX_LIST_BYTES``."""
    if not url.lower().startswith(("https://", "http://")):
        raise UpdateError(f"{url}: only http and https URLs are fetched")
    req = urllib.request.Request(url, headers={"User-Agent": "corridor-router lists update"})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 - scheme checked above
            body: bytes = resp.read(MAX_LIST_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UpdateError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpdateError(f"{url}: cannot download: {reason}") from exc
    if len(body) > MAX_LIST_BYTES:
        raise UpdateError(f"{url}: larger than the {MAX_LIST_BYTES}-byte list limit")
    return body


def _urls(source: Source, url: str | None) -> dict[str, str]:
    if source == "ofac":
        base = url or OFAC_BASE_URL
        base = base if base.endswith("/") else base + "/"
        return {name: base + name for name in OFAC_FILES}
    return {"consolidated.xml": url or UN_URL}


def _entry_key(e: ListEntry) -> tuple[object, ...]:
    return (e.name, e.kind, e.aliases, e.bics, e.countries, e.programs, e.identifiers)


def diff(old: SanctionsList | None, new: SanctionsList) -> tuple[tuple[ListEntry, ...], ...]:
    """Entries added, removed and changed, by list uid."""
    before = {e.uid: e for e in old.entries} if old else {}
    after = {e.uid: e for e in new.entries}
    added = tuple(e for uid, e in after.items() if uid not in before)
    removed = tuple(e for uid, e in before.items() if uid not in after)
    changed = tuple(e for uid, e in after.items() if uid in before and _entry_key(before[uid]) != _entry_key(e))
    return added, removed, changed


def in_service(directory: Path, source: Source) -> SanctionsList | None:
    """The newest version of ``source`` in the directory, as a worker watching it would load it."""
    for path in list_files_in(directory):
        try:
            lst = load_list(path)
        except (ListFormatError, OSError):
            continue
        if lst.version.source == _LIST_SOURCE[source]:
            return lst
    return None


def _shipped(source: Source) -> SanctionsList:
    ofac, un = DEFAULT_LISTS
    return load_list(ofac if source == "ofac" else un)


def _write_durably(path: Path, body: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())


def _put_in_place(staged: Path, final: Path) -> None:
    """Rename the staged folder into place; a same-day folder it replaces goes only afterwards."""
    staged.chmod(0o755)  # mkdtemp's 0700 would hide the list from a worker running as another user
    old: Path | None = None
    if final.exists():
        old = final.with_name(f".replaced-{final.name}-{os.getpid()}")
        os.rename(final, old)
    os.rename(staged, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def update_source(directory: Path, source: Source, *, url: str | None = None, min_share: float = MIN_SHARE,
                  today: Callable[[], date] = lambda: datetime.now(UTC).date(),
                  get: Callable[[str], bytes] = fetch) -> Update:
    """Download, validate and (when it differs from the directory's version) install ``source``."""
    directory.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".incoming-{source}-", dir=directory))
    try:
        for name, file_url in _urls(source, url).items():
            _write_durably(staged / name, get(file_url))
        first = staged / next(iter(_urls(source, url)))
        try:
            new = load_list(first)
        except ListFormatError as exc:
            raise UpdateError(f"{source}: the download is not a valid list: {exc}") from exc
        if new.version.source != _LIST_SOURCE[source]:
            raise UpdateError(f"{source}: the download is a {new.version.source} list, not {_LIST_SOURCE[source]}")
        current = in_service(directory, source)
        baseline = current or _shipped(source)
        if new.version.entries < min_share * baseline.version.entries:
            raise UpdateError(
                f"{source}: the download has {new.version.entries} entries, far fewer than the "
                f"{baseline.version.entries} of {baseline.version.label}; refusing it (truncated or wrong file?)")
        added, removed, changed = diff(baseline, new)
        if current is not None and current.version.sha256 == new.version.sha256:
            return Update(source, new, baseline, None)
        # OFAC's CSV carries no date, so its version is the day it was fetched; the UN list dates itself.
        day = new.version.published if source == "un" and new.version.published else today()
        final = directory / f"{_FOLDER[source]}-{day.isoformat()}"
        _put_in_place(staged, final)
        installed = load_list(final / first.name)
        return Update(source, installed, baseline, final, added, removed, changed)
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
