"""The end-to-end benchmark's load generator and sink, run as its own process.

``python -m connectors.loadgen --payments N --rate R --out result.json`` builds every message
first (the demo's mix: CIPS-side payments out, correspondents' payments in, the demo's share of
sanctioned names), then sends them paced at R per second and reads what the router answers on
``cips.out`` and ``corr.out``. A payment is done when its sender gets a final pacs.002 (ACSC or
RJCT) or, for a held payment, the compliance PDNG. The sink reads the status headers the
corridor puts on every status report (``router.headers``), so it parses no XML and stays cheap beside the router.

It prints one JSON line ``{"event": "sending", "at": ...}`` when the first message goes and
``{"event": "sent", "at": ...}`` after the last, so the benchmark can bound its measurement
window by them, and writes per-payment send and answer times (``time.time()``) to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from connectors.cips_sim import CipsTraffic, Profile
from connectors.corr_sim import CorrespondentBanks
from router import heap
from router.config import Settings, get_settings
from router.headers import ISO_MESSAGE, ISO_STATUS, ISO_STATUS_REASON, ROUTER_STATUS_CAUSE
from router.iso20022.build import build_message
from router.iso20022.directory import load_directory
from router.kafka_clients import client_options
from router.topics import topic_name


@dataclass(frozen=True, slots=True)
class Prebuilt:
    topic: str  # logical
    key: bytes
    value: bytes
    at: float  # seconds after the start


def schedule(segments: list[tuple[float, float]]) -> list[float]:
    """Send times for consecutive segments of (payments/s, seconds): a Singles Day run is a base
    rate, a 10x step, and the base rate again while the backlog drains."""
    times: list[float] = []
    start = 0.0
    for rate, seconds in segments:
        count = int(rate * seconds)
        times += [start + i / rate for i in range(count)]
        start += seconds
    return times


def parse_segments(text: str) -> list[tuple[float, float]]:
    """``RATE:SECONDS,RATE:SECONDS,...`` (e.g. ``30:30,300:60,30:120``)."""
    try:
        segments = [(float(r), float(sec)) for r, sec in (part.split(":") for part in text.split(",") if part)]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"segments must be RATE:SECONDS,...: {text!r}") from exc
    if not segments or any(r <= 0 or sec <= 0 for r, sec in segments):
        raise argparse.ArgumentTypeError(f"segments need positive rates and seconds: {text!r}")
    return segments


def prebuild(s: Settings, n: int, rate: float, profile: Profile,
             segments: list[tuple[float, float]] | None = None) -> list[Prebuilt]:
    """The demo's traffic, rendered up front so the generator spends nothing on XML while it sends.
    With ``segments`` the send times follow them (and ``n`` is what they add up to)."""
    directory = load_directory()
    cips = CipsTraffic(directory, s, s.sim.seed)
    corr = CorrespondentBanks(directory, s, s.sim.seed + 7)
    rng = random.Random(s.sim.seed + 3)
    times = schedule(segments) if segments else None
    if times is not None:
        n, profile = len(times), "steady"
    out: list[Prebuilt] = []
    for i, planned in enumerate(cips.plan(n, profile, rate)):
        at = times[i] if times is not None else planned.at
        if rng.random() < s.sim.inbound_share:
            p = corr.inbound()
            out.append(Prebuilt("corr.in", p.uetr.encode(), build_message(p, "cbpr"), at))
        else:
            p = planned.payment
            out.append(Prebuilt("cips.in", p.uetr.encode(), build_message(p, "cips"), at))
    return out


@dataclass
class Sink:
    """What came back, per UETR: the first final answer and any liquidity-queue PDNG."""

    sent_at: dict[bytes, float] = field(default_factory=dict)
    done_at: dict[bytes, float] = field(default_factory=dict)
    outcome: dict[bytes, str] = field(default_factory=dict)
    queued: set[bytes] = field(default_factory=set)
    pending_at: dict[bytes, float] = field(default_factory=dict)  # the first PDNG a sender saw

    def see(self, key: bytes, headers: dict[str, bytes], at: float) -> None:
        if key not in self.sent_at or key in self.done_at:
            return
        if not headers.get(ISO_MESSAGE, b"").startswith(b"pacs.002"):
            return
        status = headers.get(ISO_STATUS, b"")
        reason = headers.get(ISO_STATUS_REASON, b"")
        if status in (b"ACSC", b"RJCT"):
            self.done_at[key] = at
            self.outcome[key] = status.decode() + (f":{reason.decode()}" if reason else "")
        elif status == b"PDNG" and headers.get(ROUTER_STATUS_CAUSE) == b"hold":
            self.done_at[key] = at
            self.outcome[key] = "HELD"
            self.pending_at.setdefault(key, at)
        elif status == b"PDNG":
            self.queued.add(key)
            self.pending_at.setdefault(key, at)


async def follow(s: Settings, sink: Sink, stop: asyncio.Event) -> None:
    topics = [topic_name(t, s.kafka.topic_prefix) for t in ("cips.out", "corr.out")]
    consumer = AIOKafkaConsumer(*topics, **client_options(s.kafka), group_id=None, auto_offset_reset="earliest",
                                isolation_level="read_committed", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            now = time.time()
            for records in batch.values():
                for r in records:
                    sink.see(r.key or b"", {k: bytes(v) for k, v in r.headers or ()}, now)
    finally:
        await consumer.stop()


def emit(event: str, **kw: object) -> None:
    print(json.dumps({"event": event, **kw}), flush=True)


async def run(s: Settings, n: int, rate: float, profile: Profile, drain_s: float, out: Path,
              segments: list[tuple[float, float]] | None = None) -> None:
    t0 = time.perf_counter()
    messages = prebuild(s, n, rate, profile, segments)
    emit("built", messages=len(messages), seconds=round(time.perf_counter() - t0, 2))
    heap.settle(s.gc_gen0_threshold)  # the pre-built messages are start-up state, as a worker's lists are
    sink = Sink()
    stop = asyncio.Event()
    follower = asyncio.create_task(follow(s, sink, stop))
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all", linger_ms=5, enable_idempotence=True,
                                max_batch_size=512 * 1024)
    await producer.start()
    try:
        start = time.time()
        emit("sending", at=start)
        pending = []
        for m in messages:
            delay = start + m.at - time.time()
            if delay > 0.002:
                await asyncio.sleep(delay)
            sink.sent_at[m.key] = time.time()
            pending.append(await producer.send(topic_name(m.topic, s.kafka.topic_prefix), m.value, key=m.key))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        emit("sent", at=time.time())
        deadline = time.time() + drain_s
        while len(sink.done_at) < len(sink.sent_at) and time.time() < deadline:  # noqa: ASYNC110 (polls a count)
            await asyncio.sleep(0.1)
        emit("drained", at=time.time(), done=len(sink.done_at), sent=len(sink.sent_at))
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await follower
        await producer.stop()
    rows = [{"key": k.decode(), "sent": sink.sent_at[k], "done": sink.done_at.get(k),
             "outcome": sink.outcome.get(k), "queued": k in sink.queued, "pending": sink.pending_at.get(k)}
            for k in sink.sent_at]
    await asyncio.to_thread(out.write_text, json.dumps(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m connectors.loadgen", description=__doc__.splitlines()[0])
    ap.add_argument("--payments", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--profile", choices=("steady", "singles-day", "red-packets"), default="steady")
    ap.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the last answers")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--segments", type=parse_segments, default=None, metavar="RATE:SECONDS,...",
                    help="send times by segment instead of --payments at --rate")
    args = ap.parse_args(argv)
    asyncio.run(run(get_settings(), args.payments, args.rate, args.profile, args.drain, args.out, args.segments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
