"""End to end: payments/s, latency and CPU per payment of every process, on the real broker.

``router bench e2e --payments N --rate R [--workers W] [--json]`` runs the router's processes
as an operator would (payment workers, settlement workers), feeds them from a load generator in
its own process (``connectors/loadgen.py``: pre-built messages, both directions, the demo's mix)
and reads the answers there. It reports:

* offered and achieved payments/s over the *sending window* only (after a warm-up), never over
  start-up or the drain;
* latency p50/p95/p99 of the payments sent in that window; payments that waited in the
  liquidity queue on purpose are reported apart;
* CPU ms per payment of each process kind (broker, router roles, load generator), sampled at the
  window's edges;
* the exactly-once hop floor (records/s and CPU per record through one transactional
  consume-produce hop), measured in the same run just before the load; and
* the ledger check on the run's topics.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from connectors.bench.floor import cpu_seconds, eos_hop_floor
from connectors.demo import percentile
from router.config import Settings, get_settings


def role_of(process: str) -> str:
    """The CPU table's name for a router process: ``worker`` (both payment stages), ``corridor``,
    ``screening`` or ``settle-worker``."""
    role = process.rsplit("-", 1)[0]
    return "settle-worker" if role == "settle" else role


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--payments", type=int, default=20000)
    p.add_argument("--rate", type=float, default=500.0, help="offered payments/s")
    p.add_argument("--sweep", default=None, metavar="R1,R2,...",
                   help="run once per offered rate (each --seconds long) and plot throughput and latency "
                        "against the offered rate")
    p.add_argument("--seconds", type=float, default=40.0, help="with --sweep: seconds of traffic per rate")
    p.add_argument("--workers", type=int, default=1, help="router processes of each role")
    p.add_argument("--topology", choices=("split", "fused"), default="split",
                   help="split: the corridor and screening stages in processes of their own, as the Kubernetes "
                        "manifests deploy them; fused: both in one `router worker` process")
    p.add_argument("--profile", choices=("steady", "singles-day"), default="steady",
                   help="singles-day: --rate is the base (10%% of capacity); a 10x step for --surge-seconds "
                        "between --before-seconds and --after-seconds at the base rate")
    p.add_argument("--surge-seconds", type=float, default=60.0)
    p.add_argument("--before-seconds", type=float, default=20.0)
    p.add_argument("--after-seconds", type=float, default=120.0)
    p.add_argument("--warmup", type=float, default=None, help="seconds of the sending window not measured "
                   "(default: 10%% of it, at least 2 s)")
    p.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the last answers")
    p.add_argument("--floor-records", type=int, default=40000, help="records through the floor hop (0: skip)")
    p.add_argument("--report-dir", type=Path, default=Path("reports"))
    p.add_argument("--json", action="store_true", help="print only the JSON result")


def broker_process(s: Settings) -> psutil.Process | None:
    """The local broker serving the configured port (its pid file from deploy/local/kafka)."""
    host, _, port = s.kafka.hosts[0].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        return None
    pidfile = Path(os.environ.get("KAFKA_HOME_DIR", Path.home() / ".cache/corridor-router" / f"kafka-{port}"))
    try:
        return psutil.Process(int((pidfile / "kafka.pid").read_text().strip()))
    except (OSError, ValueError, psutil.Error):
        return None


@dataclass
class CpuSample:
    at: float
    seconds: dict[str, float]  # role -> user + system CPU seconds of its processes


class CpuMeter:
    """CPU seconds per role, read from the kernel for each process the role runs."""

    def __init__(self) -> None:
        self.procs: dict[str, list[psutil.Process]] = {}
        self.samples: list[CpuSample] = []
        self.peak_rss: dict[str, int] = {}

    def add(self, role: str, pid: int) -> None:
        with contextlib.suppress(psutil.Error):
            self.procs.setdefault(role, []).append(psutil.Process(pid))

    def sample(self) -> CpuSample:
        seconds: dict[str, float] = {}
        for role, procs in self.procs.items():
            total = 0.0
            rss = 0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    total += cpu_seconds(p)
                    rss += p.memory_info().rss
            seconds[role] = total
            self.peak_rss[role] = max(self.peak_rss.get(role, 0), rss)
        s = CpuSample(time.time(), seconds)
        self.samples.append(s)
        return s

    def between(self, t0: float, t1: float) -> dict[str, float]:
        """CPU seconds per role from the last sample at or before t0 to the first at or after t1."""
        before = max((s for s in self.samples if s.at <= t0), key=lambda s: s.at, default=self.samples[0])
        after = min((s for s in self.samples if s.at >= t1), key=lambda s: s.at, default=self.samples[-1])
        return {role: after.seconds.get(role, 0.0) - before.seconds.get(role, 0.0) for role in after.seconds}


async def _sample_forever(meter: CpuMeter, every_s: float = 0.25) -> None:
    while True:
        meter.sample()
        await asyncio.sleep(every_s)


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from connectors.demo import Processes, demo_corridor_settings, publish_quotes
    from connectors.demo_cli import demo_settings, ensure_broker
    from router.iso20022.directory import load_directory
    from router.kafka_clients import create_topics, delete_topics_with_prefix
    from router.ledger_reader import check_ledger
    from router.procs import settings_env

    s = demo_corridor_settings(demo_settings(get_settings()), load_directory())
    s = s.model_copy(update={"app_id": s.app_id.replace("demo-", "bench-"),
                             "kafka": s.kafka.model_copy(update={
                                 "topic_prefix": s.kafka.topic_prefix.replace("demo-", "bench-")})})
    ensure_broker(s)
    await create_topics(s.kafka)
    report_dir = args.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    meter = CpuMeter()
    broker = broker_process(s)
    if broker is not None:
        meter.add("broker", broker.pid)
    floor = await eos_hop_floor(s, records=args.floor_records, broker=broker) if args.floor_records else None

    procs = Processes(s, report_dir, args.workers, split=args.topology == "split")
    stop = asyncio.Event()
    feed = asyncio.create_task(publish_quotes(s, stop))
    sampler: asyncio.Task[None] | None = None
    out = Path(tempfile.mkdtemp(prefix="bench-e2e-")) / "loadgen.json"
    events: dict[str, dict[str, Any]] = {}
    try:
        await asyncio.to_thread(procs.start_all)
        for name, proc in procs.procs.items():
            meter.add(role_of(name), proc.proc.pid)
        shape = ["--profile", args.profile]
        if args.profile == "singles-day":
            shape = ["--segments", ",".join(f"{r}:{sec}" for r, sec in surge_segments(args))]
        gen = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "connectors.loadgen", "--payments", str(args.payments), "--rate", str(args.rate),
            *shape, "--drain", str(args.drain), "--out", str(out),
            env=settings_env(s), stdout=subprocess.PIPE, stderr=None)
        meter.add("loadgen", gen.pid)
        sampler = asyncio.create_task(_sample_forever(meter))
        assert gen.stdout is not None
        async for line in gen.stdout:
            with contextlib.suppress(ValueError):
                ev = json.loads(line)
                events[ev["event"]] = ev
                if not args.json:
                    print(f"loadgen: {ev}", file=sys.stderr, flush=True)
        await gen.wait()
        if gen.returncode != 0 or "sent" not in events:
            raise RuntimeError(f"load generator failed (exit {gen.returncode}); events {events}")
    finally:
        if sampler is not None:
            sampler.cancel()
        stop.set()
        await asyncio.gather(feed, return_exceptions=True)
        ledger = await check_ledger(s, wait_s=5.0)
        crashed = [name for name, p in procs.procs.items() if not p.alive()]
        await asyncio.to_thread(procs.stop_all)
    rows = json.loads(out.read_text())
    result = summarise(args, rows, events, meter, floor, ledger, crashed)
    result["topic_prefix"] = s.kafka.topic_prefix
    if not os.environ.get("ROUTER_BENCH_KEEP_TOPICS"):
        await delete_topics_with_prefix(s.kafka, (s.kafka.topic_prefix,))
    return result


def surge_segments(args: argparse.Namespace) -> list[tuple[float, float]]:
    return [(args.rate, args.before_seconds), (10 * args.rate, args.surge_seconds), (args.rate, args.after_seconds)]


def surge_report(args: argparse.Namespace, rows: list[dict[str, Any]], start: float) -> dict[str, Any]:
    """Singles Day: each phase's rates, the backlog's peak, how long after the step the last payment
    sent during it was answered, and what senders saw meanwhile (PDNG)."""
    t_surge = start + args.before_seconds
    t_end = t_surge + args.surge_seconds
    phases = {"before": (start, t_surge), "surge": (t_surge, t_end), "after": (t_end, t_end + args.after_seconds)}
    out: dict[str, Any] = {"phases": {}}
    for name, (a, b) in phases.items():
        sent = [r for r in rows if a <= r["sent"] < b]
        done = [r for r in rows if r["done"] is not None and a <= r["done"] < b]
        lat = [1000 * (r["done"] - r["sent"]) for r in sent if r["done"] is not None and not r["queued"]]
        out["phases"][name] = {"offered_per_s": round(len(sent) / (b - a), 1),
                               "answered_per_s": round(len(done) / (b - a), 1),
                               "p50_ms": round(percentile(lat, 0.5), 1), "p99_ms": round(percentile(lat, 0.99), 1)}
    upto = [r for r in rows if r["sent"] < t_end]
    unanswered = sum(1 for r in upto if r["done"] is None)
    last = max((r["done"] for r in upto if r["done"] is not None), default=t_end)
    out["drained_after_surge_s"] = None if unanswered else round(max(0.0, last - t_end), 1)
    out["unanswered"] = sum(1 for r in rows if r["done"] is None)
    sent_times = sorted(r["sent"] for r in rows)
    done_times = sorted(r["done"] for r in rows if r["done"] is not None)
    peak, t = 0, start
    while t < t_end + args.after_seconds:
        peak = max(peak, bisect.bisect_right(sent_times, t) - bisect.bisect_right(done_times, t))
        t += 0.5
    out["backlog_peak"] = peak
    out["pdng_seen_during_surge"] = sum(1 for r in rows if r.get("pending") is not None
                                        and t_surge <= r["pending"] < t_end + args.after_seconds)
    return out


def summarise(args: argparse.Namespace, rows: list[dict[str, Any]], events: dict[str, dict[str, Any]],
              meter: CpuMeter, floor: dict[str, Any] | None, ledger: Any, crashed: list[str]) -> dict[str, Any]:
    start, end = float(events["sending"]["at"]), float(events["sent"]["at"])
    warmup = args.warmup if args.warmup is not None else max(2.0, 0.1 * (end - start))
    t0 = min(start + warmup, end)
    window = max(end - t0, 1e-9)
    sent_in = [r for r in rows if t0 <= r["sent"] <= end]
    done_in = [r for r in rows if r["done"] is not None and t0 <= r["done"] <= end]
    cpu = meter.between(t0, end)
    per_payment = {role: round(1000 * sec / max(1, len(done_in)), 3) for role, sec in sorted(cpu.items())}
    router_roles = [r for r in per_payment if r not in ("loadgen",)]
    lat_all = [1000 * (r["done"] - r["sent"]) for r in sent_in if r["done"] is not None]
    lat_direct = [1000 * (r["done"] - r["sent"]) for r in sent_in if r["done"] is not None and not r["queued"]]
    lat_queued = [1000 * (r["done"] - r["sent"]) for r in sent_in if r["done"] is not None and r["queued"]]
    outcomes = Counter((r["outcome"] or "none").split(":")[0] for r in rows)
    reasons = Counter(r["outcome"] for r in rows if r["outcome"] and r["outcome"].startswith("RJCT"))
    router_broker_ms = sum(per_payment[r] for r in router_roles)
    result: dict[str, Any] = {
        "payments": len(rows),
        "answered": sum(1 for r in rows if r["done"] is not None),
        "outcomes": dict(outcomes),
        "rejections": dict(reasons),
        "offered_per_s": round(len(sent_in) / window, 1),
        "throughput_per_s": round(len(done_in) / window, 1),
        "window_s": round(window, 2),
        "latency_ms": {"p50": round(percentile(lat_direct, 0.5), 1), "p95": round(percentile(lat_direct, 0.95), 1),
                       "p99": round(percentile(lat_direct, 0.99), 1), "samples": len(lat_direct),
                       "all_p99": round(percentile(lat_all, 0.99), 1),
                       "liquidity_queued": {"count": len(lat_queued), "p50": round(percentile(lat_queued, 0.5), 1),
                                            "p99": round(percentile(lat_queued, 0.99), 1)}},
        "cpu_ms_per_payment": per_payment,
        "router_and_broker_cpu_ms_per_payment": round(router_broker_ms, 3),
        "peak_rss_mb": {role: round(v / 2**20, 1) for role, v in sorted(meter.peak_rss.items())},
        "floor_records_per_s": floor["records_per_s"] if floor else None,
        "floor": floor,
        "ledger_check": {"ok": ledger.violation_count == 0, "violations": ledger.violation_count,
                         "settlements": ledger.settlements, "commits": ledger.commits, "aborts": ledger.aborts},
        "crashed": crashed,
        "workers": args.workers,
        "topology": args.topology,
        "profile": args.profile,
    }
    if args.profile == "singles-day":
        result["singles_day"] = surge_report(args, rows, start)
    if floor and floor.get("cpu_us_per_record_total"):
        # How many floor records' worth of CPU (client + broker) one payment costs the router and broker.
        result["cpu_ratio_to_floor"] = round(1000 * router_broker_ms / floor["cpu_us_per_record_total"], 1)
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.sweep:
        return sweep(args, [float(r) for r in args.sweep.split(",") if r.strip()])
    result = asyncio.run(_run(args))
    if not args.json:
        lat = result["latency_ms"]
        print(f"offered {result['offered_per_s']}/s  achieved {result['throughput_per_s']}/s over "
              f"{result['window_s']} s  p50/p95/p99 {lat['p50']}/{lat['p95']}/{lat['p99']} ms  "
              f"cpu ms/payment {result['cpu_ms_per_payment']}  ledger {result['ledger_check']}", file=sys.stderr)
    return result


def sweep(args: argparse.Namespace, rates: list[float]) -> dict[str, Any]:
    """One run per offered rate (a fresh deployment each), then a plot: the saturation point is
    where achieved stops following offered and latency turns up."""
    runs = []
    for rate in rates:
        one = argparse.Namespace(**{**vars(args), "rate": rate, "sweep": None,
                                    "payments": max(200, int(rate * args.seconds))})
        r = asyncio.run(_run(one))
        runs.append({"offered_per_s": r["offered_per_s"], "throughput_per_s": r["throughput_per_s"],
                     "latency_ms": r["latency_ms"], "cpu_ms_per_payment": r["cpu_ms_per_payment"],
                     "router_and_broker_cpu_ms_per_payment": r["router_and_broker_cpu_ms_per_payment"],
                     "floor_records_per_s": r["floor_records_per_s"], "ledger_check": r["ledger_check"]})
        if not args.json:
            print(f"rate {rate}: achieved {r['throughput_per_s']}/s p99 {r['latency_ms']['p99']} ms", file=sys.stderr)
    plot = plot_sweep(runs, args.report_dir / "bench-e2e-sweep.png")
    return {"sweep": runs, "plot": str(plot)}


def plot_sweep(runs: list[dict[str, Any]], png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offered = [r["offered_per_s"] for r in runs]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax1.plot(offered, [r["throughput_per_s"] for r in runs], "o-", label="achieved")
    ax1.plot(offered, offered, ":", color="grey", label="offered")
    ax1.set_ylabel("payments / s")
    ax1.legend()
    for q in ("p50", "p99"):
        ax2.plot(offered, [r["latency_ms"][q] for r in runs], "o-", label=q)
    ax2.set_yscale("log")
    ax2.set_ylabel("latency (ms, log)")
    ax2.set_xlabel("offered payments / s")
    ax2.legend()
    fig.suptitle("router bench e2e: throughput and latency against offered rate")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
