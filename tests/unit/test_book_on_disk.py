"""The ledger's book with its receipts on disk behaves as the book in memory: same answers, same
changelog, same state after commits and rollbacks, and after a restart (the store reopened, or
rebuilt from the changelog) the same claims and queue, without reading the decided receipts."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.pipeline import ledger_store
from router.pipeline.ledger_store import DiskReceipts, LedgerStore
from router.settlement import pvp
from router.settlement.book import LEDGER_CHANGELOG, Book, SettlementReceipt
from router.settlement.model import Execute, Fund, Release, SettlementRequest
from router.streams.disk_store import rocksdb_options, shared_cache
from tests.unit.test_settlement_pvp import OPENING, POLICY, req

D = Decimal
OPTIONS = rocksdb_options(1, shared_cache(8))
T0 = 1_764_000_000.25


def store(path: Path) -> LedgerStore:
    return LedgerStore(0, LEDGER_CHANGELOG, path, OPTIONS)


def disk_book(path: Path, cache: int = 4096) -> Book:
    return Book(0, DiskReceipts(store(path), cache))


def close(book: Book) -> None:
    assert isinstance(book.tier, DiskReceipts)
    book.tier.store.close()


def request(sid: int, sender: int, msg: int, cny: int, usd: int, hold: float | None) -> SettlementRequest:
    r = req(f"s{sid}", f"{cny}.00", f"{usd}.00", sender=f"CN{sender}", msg_id=f"M{msg}")
    if hold is None:
        return r
    return r.model_copy(update={"condition_id": "C1", "hold_until": datetime.fromtimestamp(hold, UTC)})


def step(book: Book, op: tuple[Any, ...], now: float) -> pvp.Effects:
    kind = op[0]
    if kind == "settle":
        _, sid, sender, msg, cny, usd, conditional = op
        return pvp.settle(book, request(sid, sender, msg, cny, usd, now + 30 if conditional else None), now, POLICY)
    if kind == "fund":
        _, account, amount, fid = op
        return pvp.fund(book, Fund(account=account, fund_id=f"f{fid}", currency=account[-3:], amount=D(amount)),
                        now, POLICY)
    if kind == "execute":
        return pvp.execute(book, Execute(settlement_id=f"s{op[1]}", uetr=f"s{op[1]}", condition_id="C1",
                                         event_id="E"), now, POLICY)
    if kind == "release":
        return pvp.release(book, Release(settlement_id=f"s{op[1]}", uetr=f"s{op[1]}", reason="CUST"), now, POLICY)
    fx = pvp.expire(book, now, POLICY)
    fx.extend(pvp.offset(book, now, POLICY))
    pvp.sweep(book, now, retention_s=40, budget=op[1])
    return fx


def queued_by_debit(book: Book) -> dict[str, set[str]]:
    """The book's index of queued settlements by debited account, worked out from the queue."""
    out: dict[str, set[str]] = {}
    for sid, waiting in book.waiting.items():
        for leg in waiting.legs:
            out.setdefault(leg.debit_account, set()).add(sid)
    return out


def view(book: Book) -> dict[str, Any]:
    """Everything the book holds, read in full (decided receipts too)."""
    # The drain's index follows the queue through every step, commit and rollback.
    assert book.queued_by_debit == queued_by_debit(book)
    return {"accounts": dict(book.accounts), "funds": dict(book.funds), "caps": dict(book.caps),
            "receipts": book.all_receipts(), "claims": book.all_claims(), "queue": list(book.queue.items()),
            "waiting": sorted(book.waiting), "held": sorted(book.held), "reserved": sorted(book.reserved)}


def effects(fx: pvp.Effects) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    return [j.model_dump() for j in fx.journal], [o.model_dump() for o in fx.outcomes], fx.refused


OPS = st.one_of(
    st.tuples(st.just("settle"), st.integers(0, 9), st.integers(1, 2), st.integers(0, 4), st.integers(1, 60),
              st.integers(1, 12), st.booleans()),
    st.tuples(st.just("fund"), st.sampled_from(["CN1/CNY", "FX/USD"]), st.sampled_from(["5", "40"]),
              st.integers(0, 3)),
    st.tuples(st.just("execute"), st.integers(0, 9)),
    st.tuples(st.just("release"), st.integers(0, 9)),
    st.tuples(st.just("tick"), st.integers(0, 3)),
)
STEPS = st.lists(st.tuples(st.lists(OPS, min_size=1, max_size=3), st.floats(0, 25), st.booleans()),
                 min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_disk_book_equals_memory_book(steps: list[tuple[list[tuple[Any, ...]], float, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger"
        memory, disk = Book(), disk_book(path, cache=3)  # a tiny cache: most reads go to disk
        changelog: dict[str, bytes | None] = {}
        now = T0
        for book in (memory, disk):
            pvp.open_accounts(book, OPENING, now, POLICY.owner_of)
        for ops, dt, commit in [([], 0.0, True), *steps]:
            now += dt
            for op in ops:
                assert effects(step(memory, op, now)) == effects(step(disk, op, now)), op
                for sid in range(10):
                    for sender in (1, 2):
                        for msg in range(5):
                            assert memory.claim(f"CN{sender}", f"M{msg}") == disk.claim(f"CN{sender}", f"M{msg}")
                    assert memory.receipt(f"s{sid}") == disk.receipt(f"s{sid}")
            changes = memory.changes()
            assert changes == disk.changes()
            if commit:
                memory.commit()
                disk.commit()
                changelog.update((key, value) for _, key, value in changes)
            else:
                memory.rollback()
                disk.rollback()
            assert view(memory) == view(disk)
        close(disk)

        # A restart on the same store: the hot state comes back from the indexes alone.
        reopened = disk_book(path)
        restored = Book()
        for key, value in changelog.items():
            if value is not None:
                restored.load(LEDGER_CHANGELOG, key, value)
        assert view(reopened) == view(memory)
        assert view(restored) == view(memory)
        assert reopened.seq >= max((r.seq for r in memory.all_receipts().values()), default=0)
        close(reopened)

        # A store rebuilt from the changelog (a new host) derives the same indexes.
        rebuilt_store = store(Path(tmp) / "rebuilt")
        for key, value in changelog.items():
            rebuilt_store.load_record(key, value)
        rebuilt_store.loaded_to(LEDGER_CHANGELOG, len(changelog))
        rebuilt = Book(0, DiskReceipts(rebuilt_store))
        assert view(rebuilt) == view(memory)
        rebuilt_store.close()


def test_restart_reads_only_the_open_receipts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A book reopened over 300 decided receipts and one queued: only the queued one is decoded."""
    book = disk_book(tmp_path / "s")
    pvp.open_accounts(book, OPENING, T0, POLICY.owner_of)
    for i in range(300):
        pvp.settle(book, req(f"d{i}", "0.10", "0.01"), T0, POLICY)
    pvp.settle(book, req("q", "10.00", "99.00"), T0, POLICY)
    book.commit()
    close(book)
    decoded: list[str] = []
    real = ledger_store.decode_receipt

    def counting(raw: bytes) -> SettlementReceipt:
        r = real(raw)
        decoded.append(r.settlement_id)
        return r

    monkeypatch.setattr(ledger_store, "decode_receipt", counting)
    reopened = disk_book(tmp_path / "s")
    assert list(reopened.queue) == ["q"] and decoded == ["q"]
    assert len(reopened.all_receipts()) == 301, "the decided ones are on disk all the same"
    # A replay of an old settlement id and a reuse of its MsgId get the same answers as before.
    replay = pvp.settle(reopened, req("d7", "0.10", "0.01"), T0 + 1, POLICY)
    assert replay.outcomes[0].decision == "DUPLICATE" and replay.outcomes[0].duplicate_of == "d7"
    reuse = pvp.settle(reopened, req("new", "0.10", "0.01", msg_id="M-d7"), T0 + 1, POLICY)
    assert (reuse.outcomes[0].decision, reuse.outcomes[0].duplicate_of) == ("ABORT", "d7")
    assert reopened.receipt("new") is not None and reopened.receipt("new").seq > 301  # type: ignore[union-attr]
    close(reopened)


def test_sweep_on_disk_drops_the_oldest_decided_first_and_frees_their_claims(tmp_path: Path) -> None:
    book = disk_book(tmp_path / "s")
    pvp.open_accounts(book, OPENING, T0, POLICY.owner_of)
    for i in range(5):
        pvp.settle(book, req(f"d{i}", "0.10", "0.01"), T0 + i, POLICY)
    book.commit()
    assert pvp.sweep(book, T0 + 100 + 2, retention_s=100, budget=10) == 3
    book.commit()
    assert [book.receipt(f"d{i}") is None for i in range(5)] == [True, True, True, False, False]
    assert book.claim("CN1", "M-d0") is None and book.claim("CN1", "M-d4") == "d4"
    assert list(book.decided_by_age(T0 + 10)) == ["d3", "d4"]
