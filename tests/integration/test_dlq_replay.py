"""`router dlq replay` on the real broker: a payment refused by a misconfigured ingest worker lands in
the DLQ; the limit is fixed and the worker restarted; the replay sends the payment back and it is
accepted once. A second replay, and two racing replays, re-inject nothing more."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from router.config import IngestSettings, Settings
from router.dlq import header_dict
from router.dlq_kafka import ReplayFenced, read_markers, replay
from router.dlq_replay import REPLAY_OF, Selection
from router.iso20022 import examples as ex
from router.iso20022.build import build_message
from router.procs import settings_env
from tests.support.kafka import consume, produce, start_worker

pytestmark = pytest.mark.integration


def _cli(s: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", "dlq", *args], env=settings_env(s),
                          capture_output=True, text=True, timeout=120)


def _of(records: list, uetr: str) -> list:
    return [r for r in records if r.key == uetr.encode()]


async def test_a_dead_letter_is_replayed_after_the_fix_and_processed_once(topics: Settings, tmp_path: Path) -> None:
    fixed = topics
    # The cause: a message size limit below a normal pacs.008 (~3 KB).
    broken = fixed.model_copy(update={"ingest": IngestSettings(max_message_bytes=1024)})
    uetr, other = str(uuid.uuid4()), str(uuid.uuid4())
    payment = build_message(ex.cips_pacs008(uetr=uetr), "cips")
    assert len(payment) > 1024

    worker = start_worker(broken, tmp_path / "broken.log", "--stages", "corridor")
    try:
        await produce(broken, "cips.in", payment, key=uetr.encode(), headers=[("sender", b"CIPSBANK")])
        await produce(broken, "cips.in", build_message(ex.cips_pacs008(uetr=other), "cips"), key=other.encode())
        dlq = await consume(broken, "router.dlq", until=lambda rs: len(rs) >= 2)
    finally:
        worker.stop()
    assert len(dlq) == 2
    dead = _of(dlq, uetr)[0]
    assert "exceeds" in header_dict(dead.headers)["dlq.reason.text"]

    listed = _cli(fixed, "list", "--key", uetr, "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["reason"] == "FF01" and row["replayed"] is False
    assert row["source"].startswith(f"{fixed.kafka.topic_prefix}cips.in[")

    assert _cli(fixed, "replay").returncode == 2, "a replay without a selection or --all is refused"
    dry = _cli(fixed, "replay", "--key", uetr, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert [r["key"] for r in json.loads(dry.stdout)["would_replay"]] == [uetr]
    assert await read_markers(fixed) == {}, "a dry run writes nothing"

    worker = start_worker(fixed, tmp_path / "fixed.log", "--stages", "corridor")
    try:
        first = _cli(fixed, "replay", "--key", uetr, "--note", "INC-42 limit raised", "--json")
        assert first.returncode == 0, first.stderr
        where = f"router.dlq[{dead.partition}]@{dead.offset}"
        assert [r["dlq"] for r in json.loads(first.stdout)["replayed"]] == [where]

        again = _cli(fixed, "replay", "--key", uetr, "--json")
        assert again.returncode == 1, "a second replay of the same record is refused"
        assert "already replayed" in json.loads(again.stdout)["refused"][0]["why"]
        assert json.loads(again.stdout)["replayed"] == []

        taken = await consume(fixed, "payments.status", until=lambda rs: len(_of(rs, uetr)) >= 1)
        # Give a duplicate time to show up before counting.
        await asyncio.sleep(3)
        taken = await consume(fixed, "payments.status", until=lambda rs: False, timeout=3)
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()

    [ok] = _of(taken, uetr)  # the corridor took the payment in once
    assert json.loads(ok.value)["uetr"] == uetr
    assert not _of(taken, other), "only the chosen record is replayed"
    cips_in = await consume(fixed, "cips.in", until=lambda rs: len(rs) >= 3)
    assert len(_of(cips_in, uetr)) == 2, "the original and exactly one replay"
    replayed = _of(cips_in, uetr)[1]
    h = header_dict(replayed.headers)
    assert h[REPLAY_OF] == f"router.dlq[{dead.partition}]@{dead.offset}"
    assert h["sender"] == "CIPSBANK", "the record's own headers go back with it"
    [marker] = (await read_markers(fixed)).values()
    assert json.loads(marker)["note"] == "INC-42 limit raised"


async def test_racing_replays_inject_a_record_once(topics: Settings) -> None:
    s = topics
    uetr = str(uuid.uuid4())
    headers = [("dlq.reason.code", b"FF01"), ("dlq.reason.text", b"test"), ("dlq.stage", b"ingest"),
               ("dlq.source.topic", f"{s.kafka.topic_prefix}cips.in".encode()),
               ("dlq.source.partition", b"0"), ("dlq.source.offset", b"7")]
    await produce(s, "router.dlq", b"<Document/>", key=uetr.encode(), headers=headers)

    outcomes = await asyncio.gather(*(replay(s, Selection(keys=frozenset({uetr}))) for _ in range(3)),
                                    return_exceptions=True)
    committed = [o for o in outcomes if not isinstance(o, BaseException) and o.committed]
    assert len(committed) <= 1, outcomes
    # A replay that lost the race says so and wrote nothing.
    assert all(isinstance(o, ReplayFenced) for o in outcomes if isinstance(o, BaseException)), outcomes
    # A fenced replay may have lost its transaction; a last one settles whatever is left.
    last = await replay(s, Selection(keys=frozenset({uetr})))
    assert len(committed) + int(last.committed) == 1, (outcomes, last)
    injected = await consume(s, "cips.in", until=lambda rs: False, timeout=3)
    assert len(_of(injected, uetr)) == 1
    assert injected[0].partition == 0
    assert len(await read_markers(s)) == 1
