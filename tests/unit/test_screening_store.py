"""Lists reload without a restart when the watched files change."""

from __future__ import annotations

import os
from pathlib import Path

from router.screening.settings import DEMO_LIST, ScreeningSettings
from router.screening.store import ListStore


def _copy_demo(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("sdn.csv", "alt.csv", "add.csv"):
        (dst / name).write_bytes((DEMO_LIST.parent / name).read_bytes())
    return dst / "sdn.csv"


def test_reload_on_change_keeps_old_version_on_broken_file(tmp_path: Path) -> None:
    sdn = _copy_demo(tmp_path / "lists")
    store = ListStore(ScreeningSettings(list_dir=tmp_path / "lists"))
    first = store.versions
    assert first[0].entries == 14
    assert store.screener.screen_name("Nova Quill") == []
    assert store.refresh() is False  # unchanged files: nothing to do

    text = sdn.read_bytes().rstrip(b"\x1a")
    sdn.write_bytes(text + b'900099,"QUILL, Nova","individual","DEMO",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
 + b"\x1a")
    os.utime(sdn, ns=(1, 1))  # a distinct mtime even on coarse-grained file systems
    assert store.refresh() is True
    second = store.versions
    assert second[0].entries == 15 and second[0].sha256 != first[0].sha256
    assert store.screener.screen_name("Nova Quill")[0].entry == "900099"

    sdn.write_bytes(b"this is not a list")
    os.utime(sdn, ns=(2, 2))
    assert store.refresh() is False and store.last_error
    assert store.versions == second  # still screening with the last good version


def test_new_file_in_watched_directory_is_picked_up(tmp_path: Path) -> None:
    _copy_demo(tmp_path / "lists" / "ofac")
    store = ListStore(ScreeningSettings(list_dir=tmp_path / "lists"))
    assert [v.source for v in store.versions] == ["OFAC-SDN"]
    (tmp_path / "lists" / "un.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:00Z">'
        "<INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>ORLA</FIRST_NAME><SECOND_NAME>VANTERPOOL"
        "</SECOND_NAME><REFERENCE_NUMBER>XXi.1</REFERENCE_NUMBER></INDIVIDUAL></INDIVIDUALS>"
        "</CONSOLIDATED_LIST>", encoding="utf-8")
    assert store.refresh() is True
    assert [v.source for v in store.versions] == ["OFAC-SDN", "UN-SC"]
    (m,) = store.screener.screen_name("Orla Vanterpool")
    assert m.list == "UN-SC" and m.entry == "XXi.1"


async def test_poll_forever_swaps_in_a_new_version(tmp_path: Path) -> None:
    import asyncio
    import contextlib

    from router.screening.store import poll_forever

    sdn = _copy_demo(tmp_path / "lists")
    store = ListStore(ScreeningSettings(list_dir=tmp_path / "lists"))
    before = store.versions[0].sha256
    task = asyncio.create_task(poll_forever(store, 0.05))
    try:
        sdn.write_bytes(sdn.read_bytes().rstrip(b"\x1a") + b'900100,"TESTER, Ada","individual","DEMO",-0- ,-0- ,'
                        b"-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a")
        os.utime(sdn, ns=(3, 3))
        for _ in range(100):
            if store.versions[0].sha256 != before:
                break
            await asyncio.sleep(0.05)
        assert store.versions[0].entries == 15
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
