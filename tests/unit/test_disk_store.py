"""The RocksDB store behaves as the in-memory store does, and keeps its checkpoint with its values."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from router.streams.disk_store import DiskStore, rocksdb_options, shared_cache
from router.streams.store import Store

OPTIONS = rocksdb_options(1, shared_cache(8))


def disk(path: Path) -> DiskStore:
    return DiskStore(0, "corridor.state", path, OPTIONS)


def test_staged_changes_are_seen_then_kept_or_forgotten(tmp_path: Path) -> None:
    s = disk(tmp_path / "s")
    s.put("a", b"1")
    assert s.get("a") == b"1" and s.db.get(b"a") is None, "staged, not yet written"
    s.commit()
    s.put("a", b"2")
    s.put("b", b"3")
    s.rollback()
    assert (s.get("a"), s.get("b")) == (b"1", None)
    s.put("a", None)
    assert s.get("a") is None
    s.commit()
    assert s.get("a") is None and list(s.items()) == []


def test_the_generation_moves_when_a_value_can_change_other_than_by_put(tmp_path: Path) -> None:
    """A stage trusts what it cached of a store while the generation stays put (the corridor)."""
    for s in (disk(tmp_path / "g"), Store(0, "corridor.state")):
        g = s.generation
        s.put("a", b"1")
        s.commit()
        assert s.generation == g, "a commit writes what the stage staged: its cache still holds"
        s.put("a", b"2")
        s.rollback()
        assert s.generation > g, f"{type(s).__name__}: a rollback must move it"
        g = s.generation
        s.load("corridor.state", "a", b"3")
        assert s.generation > g, f"{type(s).__name__}: a changelog record loaded must move it"
    d = disk(tmp_path / "w")
    g = d.generation
    d.wipe()
    assert d.generation > g


def test_values_and_the_resume_offset_survive_a_reopen_in_one_write(tmp_path: Path) -> None:
    s = disk(tmp_path / "s")
    assert s.resume_offset("corridor.state") is None
    s.put("uetr-1", b"state")
    s.wrote("corridor.state", 41)
    s.commit()
    s.put("uetr-2", b"other")
    s.wrote("corridor.state", 57)
    s.rollback()  # a failed transaction moves neither the values nor the checkpoint
    s.close()
    again = disk(tmp_path / "s")
    assert again.resume_offset("corridor.state") == 41
    assert dict(again.items()) == {"uetr-1": b"state"}, "the checkpoint is not a value"


def test_restore_loads_records_in_order_tombstones_included(tmp_path: Path) -> None:
    s = disk(tmp_path / "s")
    for i in range(12_000):  # more than one flush while loading
        s.load_record(f"k{i % 1000:04d}", f"v{i}".encode())
    s.load_record("k0001", None)
    s.loaded_to("corridor.state", 12_001)
    assert s.resume_offset("corridor.state") == 12_001
    assert s.get("k0001") is None and s.get("k0999") == b"v11999" and len(dict(s.items())) == 999


def test_scans_read_an_index_prefix_and_slices_in_key_order(tmp_path: Path) -> None:
    for s in (Store(0, "c"), disk(tmp_path / "s")):
        for k in ("b", "a", "\x01wait|a", "c", "d"):
            s.put(k, k.encode())
        s.commit()
        s.put("\x01wait|b", b"staged")
        assert sorted(s.scan("\x01wait|")) == [("\x01wait|a", b"\x01wait|a"), ("\x01wait|b", b"staged")]
        first = s.scan_after(None, 2)
        assert [k for k, _ in first] == ["\x01wait|a", "a"]
        assert [k for k, _ in s.scan_after(first[-1][0], 10)] == ["b", "c", "d"]


def test_wipe_starts_again_from_nothing(tmp_path: Path) -> None:
    s = disk(tmp_path / "s")
    s.put("a", b"1")
    s.wrote("corridor.state", 3)
    s.commit()
    s.wipe()
    assert s.get("a") is None and s.resume_offset("corridor.state") is None


OPS = st.lists(st.one_of(
    st.tuples(st.just("put"), st.sampled_from("abcdef"), st.binary(max_size=8)),
    st.tuples(st.just("del"), st.sampled_from("abcdef"), st.just(b"")),
    st.tuples(st.just("commit"), st.just(""), st.just(b"")),
    st.tuples(st.just("rollback"), st.just(""), st.just(b"")),
), max_size=40)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_disk_store_equals_the_memory_store(ops: list[tuple[str, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        mem, dsk = Store(0, "c"), disk(Path(d) / "s")
        for op, key, value in ops:
            for s in (mem, dsk):
                if op == "put":
                    s.put(key, value)
                elif op == "del":
                    s.put(key, None)
                elif op == "commit":
                    s.commit()
                else:
                    s.rollback()
            assert all(mem.get(k) == dsk.get(k) for k in "abcdef")
        assert sorted(mem.items()) == sorted(dsk.items())
        dsk.close()


async def test_a_worker_whose_state_dir_is_unusable_stops_naming_the_setting(tmp_path: Path) -> None:
    import asyncio

    import pytest

    from router.config import Settings
    from router.streams.processor import StateDirError, StoreLogic, TransactionalProcessor

    class Stage(StoreLogic):
        name = "probe"
        inputs = ("cips.in",)
        changelog = "corridor.state"

    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    s = Settings(state={"dir": blocked / "state"})  # type: ignore[arg-type]
    with pytest.raises(StateDirError, match="ROUTER_STATE__DIR"):
        await TransactionalProcessor(s, Stage()).run(asyncio.Event())  # type: ignore[arg-type]
