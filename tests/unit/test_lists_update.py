"""``router lists update`` against a local HTTP server (never a real URL): download, validate,
refuse broken or truncated lists, write atomically into dated folders, report what changed."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from router.cli import main
from router.config import get_settings
from router.screening.loaders import list_files_in, load_list
from router.screening.settings import DEFAULT_LISTS, ScreeningSettings
from router.screening.store import ListStore
from router.screening.update import UpdateError, update_source

OFAC_DIR = DEFAULT_LISTS[0].parent  # the shipped copies of the official files
UN_FILE = DEFAULT_LISTS[1]
DAY = date(2026, 3, 1)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a folder the test fills: (base URL, folder)."""
    root = tmp_path / "www"
    (root / "ofac").mkdir(parents=True)
    for f in OFAC_DIR.iterdir():
        (root / "ofac" / f.name).write_bytes(f.read_bytes())
    (root / "consolidated.xml").write_bytes(UN_FILE.read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _visible(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


def test_first_update_writes_dated_folders_that_a_worker_loads(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    lists = tmp_path / "lists"
    ofac = update_source(lists, "ofac", url=f"{base}/ofac/", today=lambda: DAY)
    un = update_source(lists, "un", url=f"{base}/consolidated.xml", today=lambda: DAY)
    assert ofac.folder == lists / "ofac-sdn-2026-03-01" and un.folder == lists / "un-sc-2026-02-27"
    assert ofac.new.version.entries == 8976 and un.new.version.entries == 1003
    assert _visible(lists) == ["ofac-sdn-2026-03-01", "ofac-sdn-2026-03-01/add.csv", "ofac-sdn-2026-03-01/alt.csv",
                               "ofac-sdn-2026-03-01/sdn.csv", "ofac-sdn-2026-03-01/sdn_comments.csv",
                               "un-sc-2026-02-27", "un-sc-2026-02-27/consolidated.xml"]
    labels = [v.label.split("#")[0] for v in ListStore(ScreeningSettings(list_dir=lists)).versions]
    assert labels == ["OFAC-SDN@2026-03-01", "UN-SC@2026-02-27"]
    again = update_source(lists, "ofac", url=f"{base}/ofac/", today=lambda: date(2026, 3, 2))
    assert again.folder is None and not (lists / "ofac-sdn-2026-03-02").exists()  # same content: unchanged


def test_a_changed_list_reports_added_removed_and_changed_and_supersedes(served: tuple[str, Path],
                                                                         tmp_path: Path) -> None:
    base, root = served
    lists = tmp_path / "lists"
    update_source(lists, "ofac", url=f"{base}/ofac/", today=lambda: DAY)
    sdn = root / "ofac" / "sdn.csv"
    rows = sdn.read_bytes().rstrip(b"\x1a").split(b"\r\n")
    rows = [r for r in rows if not r.startswith((b"36,", b"173,"))]  # two delistings
    rows = [r.replace(b'"BANCO NACIONAL DE CUBA"', b'"BANCO NACIONAL DE CUBA SA"') for r in rows]
    rows.insert(0, b'99999,"NEWLY LISTED TRADING CO","-0- ","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ')
    sdn.write_bytes(b"\r\n".join(rows) + b"\x1a")
    u = update_source(lists, "ofac", url=f"{base}/ofac/", today=lambda: date(2026, 3, 8))
    assert [e.uid for e in u.added] == ["99999"] and sorted(e.uid for e in u.removed) == ["173", "36"]
    assert [e.uid for e in u.changed] == ["306"]  # BANCO NACIONAL DE CUBA renamed
    # The older folder stays as the record of what earlier decisions used; only the newest loads.
    assert (lists / "ofac-sdn-2026-03-01").is_dir()
    assert list_files_in(lists) == [lists / "ofac-sdn-2026-03-08" / "sdn.csv"]
    assert load_list(list_files_in(lists)[0]).version.entries == 8976 - 2 + 1


@pytest.mark.parametrize("body", [b"<html><body>Service unavailable</body></html>",
                                  b'36,"AEROCARIBBEAN AIRLINES","-0- ","CUBA",-0- ,-0- ,-0- ,-0- ,-0- \r\n'
                                  b"not a row at all\r\n"])
def test_a_file_that_does_not_parse_is_refused(served: tuple[str, Path], tmp_path: Path, body: bytes) -> None:
    base, root = served
    lists = tmp_path / "lists"
    (root / "ofac" / "sdn.csv").write_bytes(body)
    with pytest.raises(UpdateError, match="not a valid list"):
        update_source(lists, "ofac", url=f"{base}/ofac/", today=lambda: DAY)
    assert _visible(lists) == []  # nothing written, no staging folder left behind


def test_a_truncated_list_is_refused(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    xml = (root / "consolidated.xml").read_bytes()
    cut = xml.index(b"</INDIVIDUALS>")
    head = xml[:cut]
    # A well-formed list holding only the first hundred individuals: a download cut short upstream.
    parts = head.split(b"<INDIVIDUAL>")
    (root / "consolidated.xml").write_bytes(b"<INDIVIDUAL>".join(parts[:101]) + b"</INDIVIDUALS></CONSOLIDATED_LIST>")
    lists = tmp_path / "lists"
    with pytest.raises(UpdateError, match="far fewer than the 1003"):
        update_source(lists, "un", url=f"{base}/consolidated.xml", today=lambda: DAY)
    assert _visible(lists) == []
    (root / "consolidated.xml").write_bytes(xml[: len(xml) // 2])  # cut mid-element: not well-formed
    with pytest.raises(UpdateError, match="not well-formed"):
        update_source(lists, "un", url=f"{base}/consolidated.xml", today=lambda: DAY)


def test_the_command_prints_changes_and_fails_on_a_refusal(served: tuple[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = served
    lists = tmp_path / "lists"
    get_settings.cache_clear()
    assert main(["lists", "update", "--dir", str(lists), "--source", "un", "--url", f"{base}/consolidated.xml"]) == 0
    out = capsys.readouterr().out
    assert "un: UN-SC@2026-02-27#" in out and f"written to {lists / 'un-sc-2026-02-27'}" in out
    assert "added 0" in out and "removed 0" in out
    assert main(["lists", "update", "--dir", str(lists), "--source", "ofac", "--url", f"{base}/missing/"]) == 1
    out = capsys.readouterr().out
    assert "ofac: REFUSED, nothing written" in out and "HTTP 404" in out
    assert main(["lists", "update", "--dir", str(lists), "--url", f"{base}/ofac/"]) == 2
    assert "--source ofac or --source un" in capsys.readouterr().err


def test_without_a_directory_the_command_says_how_to_give_one(capsys: pytest.CaptureFixture[str]) -> None:
    get_settings.cache_clear()
    assert main(["lists", "update"]) == 2
    assert "ROUTER_SCREENING__LIST_DIR" in capsys.readouterr().err


@pytest.mark.shared
def test_the_shared_reference_files_pass_the_same_checks(shared_dir: Path, tmp_path: Path) -> None:
    src = shared_dir / "sanctions"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(src)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        u = update_source(tmp_path, "ofac", url=f"{base}/ofac/sdn_2021-07-07/", today=lambda: DAY)
        assert u.new.version.sha256 == load_list(DEFAULT_LISTS[0]).version.sha256  # the package's copy is that set
        un = update_source(tmp_path, "un", url=f"{base}/un/un_consolidated_2026-02-27.xml", today=lambda: DAY)
        assert un.new.version.sha256 == load_list(UN_FILE).version.sha256
    finally:
        server.shutdown()
        server.server_close()
