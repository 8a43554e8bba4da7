"""The corridor demo: real router processes on a real broker, simulated banks on both sides.

Runs the router's payment workers (ingest, screening, corridor) and settlement workers as child
processes, the FX feed, the CIPS / e-CNY simulator and the correspondent banks in this process,
then waits until every payment has an outcome and reports: settled, rejected by reason, held,
returned, cancelled, per-currency volumes, end-to-end latency, throughput and the ledger check.
``chaos`` kills router processes with SIGKILL at random moments and restarts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from connectors.cips_sim import CipsSimulator, Profile
from connectors.corr_sim import CorrespondentSimulator
from connectors.fx_feed import day_quotes, latest_ecb_day
from connectors.logistics_sim import with_logistics_key
from router.config import Settings
from router.iso20022.directory import Directory, load_directory
from router.kafka_clients import client_options
from router.procs import RouterProcess, free_port, spawn
from router.settlement.settings import AccountOpening
from router.topics import topic_name

FX_PROVIDERS = ("BKCHCNBJ", "ICBKCNBJ")  # Chinese market makers quoting the corridor currencies
HOSTILE_SEED = 1_000_007
TERMINAL = {"settled", "rejected", "held", "returned", "cancelled"}


# Thinly funded accounts: two small CIPS participants and their trade partners' nostros
# (connectors.population.TRADE_PARTNERS), each holding about one payment's worth. Their flows
# with each other are two-way and about balanced over the run, so each lives on incoming
# payments, and those come from another thin account: queues form in both directions and
# gridlock, what an RTGS liquidity-saving mechanism is for. Everyone else is funded far beyond the
# demo's flows.
THIN_ACCOUNTS: dict[str, Decimal] = {
    "JDHBCNSH/CNY": Decimal("20000.00"), "WLKECNBJ/CNY": Decimal("20000.00"),
    "HDSNUS33/USD": Decimal("2800.00"), "NRDBDEFF/EUR": Decimal("2400.00"),
}


def demo_balances(directory: Directory, *, thin: dict[str, Decimal] | None = None) -> dict[str, AccountOpening]:
    """Opening positions: every CIPS participant in CNY, the FX providers in every corridor
    currency, correspondents' nostros in their own; the ``thin`` ones (default ``THIN_ACCOUNTS``)
    with little, to show the liquidity queue and the LSM."""
    thin = THIN_ACCOUNTS if thin is None else thin
    out: dict[str, AccountOpening] = {}
    currencies = sorted({c for bank in directory.correspondents for c in bank.currencies[:1]} | {"USD", "EUR"})
    for p in directory.participants:
        bic8 = p.bic[:8]
        out[f"{bic8}/CNY"] = AccountOpening(currency="CNY", amount=Decimal("500000000.00"), owner=bic8)
    for provider in FX_PROVIDERS:
        for ccy in currencies:
            out[f"{provider}/{ccy}"] = AccountOpening(currency=ccy, amount=Decimal("900000000.00"), owner=provider)
        out[f"{provider}/CNY"] = AccountOpening(currency="CNY", amount=Decimal("900000000.00"), owner=provider)
    for bank in directory.correspondents:
        for ccy in bank.currencies[:1]:
            digits = 0 if ccy in ("JPY", "KRW") else 2
            amount = Decimal("50000000").quantize(Decimal(1).scaleb(-digits))
            out[f"{bank.bic[:8]}/{ccy}"] = AccountOpening(currency=ccy, amount=amount, owner=bank.bic[:8])
    for account, amount in thin.items():
        out[account] = out[account].model_copy(update={"amount": amount})
    return out


def demo_corridor_settings(s: Settings, directory: Directory) -> Settings:
    return s.model_copy(update={
        "settlement": s.settlement.model_copy(update={"opening_balances": demo_balances(directory),
                                                      "fx_providers": FX_PROVIDERS}),
    })


async def publish_quotes(s: Settings, stop: asyncio.Event, every_s: float = 5.0) -> None:
    """ECB reference rates re-stamped now, from two competing providers, refreshed until stopped."""
    producer = AIOKafkaProducer(**client_options(s.kafka), acks="all")
    await producer.start()
    topic = topic_name("fx.rates", s.kafka.topic_prefix)
    day, rates = latest_ecb_day()
    try:
        while not stop.is_set():
            now = datetime.now(UTC)
            for provider, spread in zip(FX_PROVIDERS, (Decimal("12"), Decimal("15")), strict=True):
                for q in day_quotes(day, rates, spread_bps=spread, ts=now, provider=provider):
                    await producer.send(topic, q.to_json().encode(), key=q.key.encode())
            await producer.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
    finally:
        await producer.stop()


@dataclass
class StatusBoard:
    """The latest ``payments.status`` snapshot per UETR."""

    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_change: float = field(default_factory=time.monotonic)
    longest_stall_s: float = 0.0  # the longest time between two status changes (under faults)

    async def follow(self, s: Settings) -> None:
        consumer = AIOKafkaConsumer(topic_name("payments.status", s.kafka.topic_prefix), **client_options(s.kafka),
                                    group_id=None, auto_offset_reset="earliest", isolation_level="read_committed",
                                    fetch_max_wait_ms=100)
        await consumer.start()
        try:
            async for r in consumer:
                snap = json.loads(r.value or b"{}")
                old = self.latest.get(snap.get("uetr", ""))
                if old is None or len(snap.get("hops", ())) >= len(old.get("hops", ())):
                    self.latest[snap["uetr"]] = snap
                    now = time.monotonic()
                    if self.latest and len(self.latest) > 1:
                        self.longest_stall_s = max(self.longest_stall_s, now - self.last_change)
                    self.last_change = now
        finally:
            await consumer.stop()

    def outcome(self, uetr: str) -> str:
        """The payment's outcome, "in-flight" while money is still moving (a reverse PvP too)."""
        snap = self.latest.get(uetr)
        if snap is None or snap.get("phase") == "reversing":
            return "in-flight"
        return str(snap["outcome"])


class Processes:
    """The router's own processes, restartable, killable. With ``roles`` (a secured cluster), each
    runs under its role's own Kafka user, so the corridor and screening stages run apart; ``split``
    runs them apart too (as the Kubernetes manifests do), under the one user."""

    def __init__(self, s: Settings, report_dir: Path, workers: int, roles: dict[str, Settings] | None = None,
                 *, split: bool = False) -> None:
        self.s = s
        self.dir = report_dir
        self.roles = roles
        self.specs: list[tuple[str, tuple[str, ...], str]] = []
        apart = bool(roles) or split
        payment_stages = ("corridor", "screening") if apart else ("screening,corridor",)
        for i in range(workers):
            # Stable names: a worker the chaos monkey kills comes back under the same name and takes
            # its partitions straight back (static group membership).
            for stages in payment_stages:
                name = f"{stages if apart else 'worker'}-{i}"
                self.specs.append((name, ("worker", "--stages", stages, "--web-port", str(free_port()),
                                          "--instance", name), "Ready"))
            self.specs.append((f"settle-{i}", ("settle-worker", "--instance", f"demo-{i}"), ""))
        self.procs: dict[str, RouterProcess] = {}

    def settings_for(self, name: str) -> Settings:
        role = "settlement" if name.startswith("settle-") else name.rsplit("-", 1)[0]
        return self.roles[role] if self.roles else self.s

    def start(self, name: str) -> RouterProcess:
        _, args, _ = next(x for x in self.specs if x[0] == name)
        proc = spawn(self.settings_for(name), self.dir / f"{self.s.app_id}-{name}.log", *args)
        self.procs[name] = proc
        return proc

    def start_all(self, timeout: float = 120.0) -> None:
        for name, _, marker in self.specs:
            proc = self.start(name)
            if marker:
                proc.wait_for(marker, timeout)

    def revive(self) -> list[str]:
        """Restart router processes that died on their own (a supervisor's job); say which."""
        dead = [name for name, proc in self.procs.items() if not proc.alive()]
        for name in dead:
            self.start(name)
        return dead

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.stop()

    async def chaos(self, kills: int, duration_s: float, rng: random.Random) -> list[str]:
        """SIGKILL a random router process ``kills`` times over ``duration_s``; restart each."""
        done: list[str] = []
        names = [n for n, _, _ in self.specs]
        # Every role is hit: each round kills every process once, in a random order.
        order = [n for _ in range(kills // len(names) + 1) for n in rng.sample(names, len(names))]
        for name in order[:kills]:
            await asyncio.sleep(rng.uniform(0.5, max(1.0, duration_s / max(kills, 1))))
            self.procs[name].kill()
            done.append(name)
            await asyncio.sleep(0.5)
            self.start(name)
        return done


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank), 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(s: Settings, *, payments: int, profile: Profile, chaos: int, workers: int, report_dir: Path,
              timeout_s: float, progress: bool, roles: dict[str, Settings] | None = None, hostile: int = 0,
              broker_chaos: int = 0, broker_dir: Path | None = None) -> dict[str, Any]:
    from connectors.faults import BrokerChaos, account_hostile, feed_hostile
    from connectors.hostile import hostile_records, reusing
    from router.iso20022.build import build_payment
    from router.ledger_reader import check_ledger

    directory = load_directory()
    s = with_logistics_key(s)  # the corridor trusts the simulated logistics party's delivery events
    await asyncio.to_thread(report_dir.mkdir, parents=True, exist_ok=True)
    procs = Processes(s, report_dir, workers, roles)
    banks = roles["gateway"] if roles else s  # the simulated banks and the FX feed
    stop = asyncio.Event()
    feed = asyncio.create_task(publish_quotes(banks, stop))
    procs.start_all()
    cips = CipsSimulator(banks, directory)
    corr = CorrespondentSimulator(banks, directory)
    board = StatusBoard()
    await cips.start()
    await corr.start()
    background = [asyncio.create_task(x) for x in (
        cips.listen(f"{s.app_id}-cips-sim"), corr.listen(f"{s.app_id}-corr-sim"), board.follow(banks))]
    inbound = round(payments * s.sim.inbound_share)
    outbound = payments - inbound
    rate = s.sim.rate_per_s
    t0 = time.monotonic()
    duration = max(5.0, payments / rate)
    senders = [asyncio.create_task(cips.run(outbound, profile, rate * (1 - s.sim.inbound_share))),
               asyncio.create_task(corr.originate(inbound, max(1.0, rate * s.sim.inbound_share)))]
    # Seeds of their own: the correspondent simulator draws its UETRs from seed + 7, and a hostile
    # "unknown payment" that reused one would be about a real payment.
    bad = hostile_records(hostile - hostile // 10, s.sim.seed + HOSTILE_SEED) if hostile else []
    if hostile:
        async def hostile_traffic() -> None:
            first = len(bad) // 2
            await feed_hostile(banks, bad[:first], duration / 2)
            # Then the ones that collide with good payments sent by now (another message under their
            # UETR, their MsgId with other terms), and the rest.
            n = hostile // 20
            good = [(u, build_payment(p, "cips"), "cips.in") for u, p in list(cips.sent.items())[:n]]
            good += [(u, build_payment(p, "cbpr"), "corr.in") for u, p in list(corr.inbound_sent.items())[:n]]
            bad.extend(reusing(good, hostile - len(bad), s.sim.seed + HOSTILE_SEED + 1))
            await feed_hostile(banks, bad[first:], duration / 2)
        senders.append(asyncio.create_task(hostile_traffic()))
    kills: list[str] = []
    chaos_broker = None
    if broker_chaos:
        chaos_broker = BrokerChaos(int(s.kafka.hosts[0].rpartition(":")[2]), broker_dir or Path(),
                                   lambda: board.last_change)
        senders.append(asyncio.create_task(chaos_broker.run(broker_chaos, duration, s.kafka.session_timeout_s,
                                                            random.Random(s.sim.seed + 98))))
    if chaos:
        kills = await procs.chaos(chaos, duration, random.Random(s.sim.seed + 99))
    try:
        await asyncio.gather(*senders)
    finally:
        if chaos_broker is not None:
            chaos_broker.resume()
    sent_at = time.monotonic()
    all_uetrs = list(cips.sent) + list(corr.inbound_sent)
    deadline = time.monotonic() + timeout_s
    last_print = 0.0
    crashes: list[str] = []
    while time.monotonic() < deadline:
        crashes += procs.revive()
        outcomes = Counter(board.outcome(u) for u in all_uetrs)
        finished = sum(n for k, n in outcomes.items() if k in TERMINAL)
        if progress and time.monotonic() - last_print > 1.0:
            last_print = time.monotonic()
            bar = "#" * int(40 * finished / max(1, len(all_uetrs)))
            print(f"\r[{bar:<40}] {finished}/{len(all_uetrs)} with an outcome", end="", flush=True)
        # Done when every payment has an outcome and nothing changed for a while (late returns).
        if finished == len(all_uetrs) and time.monotonic() - board.last_change > 3.0:
            break
        await asyncio.sleep(0.25)
    if progress:
        print()
    elapsed = time.monotonic() - t0
    stop.set()
    procs.stop_all()
    for task in background:
        task.cancel()
    await asyncio.gather(feed, *background, return_exceptions=True)
    await cips.stop()
    await corr.stop()
    report = await check_ledger(s, wait_s=2.0)
    summary = summarise(s, board, cips, corr, all_uetrs, elapsed, report, kills, crashes, report_dir,
                        window=(t0, sent_at))
    if hostile:
        summary["hostile"] = await account_hostile(s, bad)
    if chaos_broker is not None:
        summary["broker_faults"] = chaos_broker.faults
        summary["longest_stall_s"] = round(board.longest_stall_s, 2)
    return summary


def summarise(s: Settings, board: StatusBoard, cips: CipsSimulator, corr: CorrespondentSimulator,
              uetrs: list[str], elapsed: float, ledger: Any, kills: list[str], crashes: list[str],
              report_dir: Path, window: tuple[float, float] | None = None) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    volumes: dict[str, Decimal] = defaultdict(Decimal)
    for u in uetrs:
        snap = board.latest.get(u)
        outcome = board.outcome(u)
        counts[outcome] += 1
        if outcome == "rejected" and snap:
            rejected[snap.get("reason") or "NARR"] += 1
        if outcome == "settled" and snap:
            volumes[snap["currency"]] += Decimal(snap["amount"])
            quote = snap.get("quote")
            if quote:
                volumes[quote["currency_out"]] += Decimal(quote["amount_out"])
    # Conditional payments wait for their condition by design: kept out of the latency figures.
    latencies = [(cips.seen.final_at[u] - cips.seen.sent_at[u]) * 1000 for u in cips.seen.final_at
                 if u in cips.seen.sent_at and u not in cips.conditional]
    cond = Counter(board.outcome(u) for u in cips.conditional)
    cond_reasons = Counter((board.latest.get(u) or {}).get("reason") or "" for u in cips.conditional
                           if board.outcome(u) == "rejected")
    latencies += [(corr.final_at[u] - corr.sent_at[u]) * 1000 for u in corr.final_at if u in corr.sent_at]
    # The same, for the payments that settled (what the liquidity queue and the LSM change).
    settled_latencies = [(cips.seen.final_at[u] - cips.seen.sent_at[u]) * 1000 for u in cips.seen.final_at
                         if u in cips.seen.sent_at and u not in cips.conditional and board.outcome(u) == "settled"]
    settled_latencies += [(corr.final_at[u] - corr.sent_at[u]) * 1000 for u in corr.final_at
                          if u in corr.sent_at and board.outcome(u) == "settled"]
    summary: dict[str, Any] = {
        "payments": len(uetrs),
        "settled": counts["settled"],
        "rejected": dict(sorted(rejected.items())),
        "held": counts["held"],
        "returned": counts["returned"],
        "cancelled": counts["cancelled"],
        "in_flight": counts["in-flight"],
        "volumes": {k: str(v) for k, v in sorted(volumes.items())},
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 1), "p99": round(percentile(latencies, 0.99), 1),
                       "mean": round(statistics.fmean(latencies), 1) if latencies else 0.0,
                       "samples": len(latencies),
                       "settled_p50": round(percentile(settled_latencies, 0.5), 1),
                       "settled_p99": round(percentile(settled_latencies, 0.99), 1)},
        # Sustained: final answers while the senders were sending, over that window. Dividing all
        # payments by the whole run would count the drain (the last liquidity-queued payments).
        "throughput_per_s": sustained_rate(cips.seen.final_at, corr.final_at, window=window),
        "offered_per_s": round(len(uetrs) / max(window[1] - window[0], 1e-9), 1) if window else None,
        "sending_s": round(window[1] - window[0], 1) if window else None,
        "elapsed_s": round(elapsed, 1),
        "ledger_check": {"ok": ledger.violation_count == 0, "violations": ledger.violation_count,
                         "settlements": ledger.settlements, "commits": ledger.commits, "aborts": ledger.aborts,
                         # liquidity-saving mechanism: sets booked on their net, and the settlements in them
                         "lsm_runs": ledger.lsm_runs, "lsm_offset_settlements": ledger.lsm_settlements},
        # The liquidity queue's result: queued payments rejected for lack of funds (AM04), and the
        # sets the liquidity-saving mechanism booked on their net, per pass.
        "liquidity": {"lsm": s.settlement.lsm, "am04": rejected.get("AM04", 0), "lsm_sets": ledger.lsm_runs,
                      "lsm_settlements": ledger.lsm_settlements, "lsm_by_kind": ledger.lsm_by_kind},
        "conditional": {"sent": len(cips.conditional), "settled": cond["settled"], "rejected": cond["rejected"],
                        "rejected_reasons": dict(sorted(cond_reasons.items())), "cancelled": cond["cancelled"],
                        "in_flight": cond["in-flight"]},
        "chaos_kills": kills,
        # Router processes that died by themselves and were restarted: should be empty.
        "crashes": crashes,
    }
    summary["report"] = str(write_report(s, cips, corr, summary, report_dir))
    return summary


def sustained_rate(*finals: dict[str, float], window: tuple[float, float] | None) -> float:
    """Final answers per second while traffic was offered (the first 10% of the window, the
    pipeline filling up, is left out)."""
    if window is None:
        return 0.0
    start, end = window
    start += 0.1 * (end - start)
    done = sum(1 for f in finals for at in f.values() if start <= at <= end)
    return round(done / (end - start), 1) if end > start else 0.0


def write_report(s: Settings, cips: CipsSimulator, corr: CorrespondentSimulator, summary: dict[str, Any],
                 report_dir: Path) -> Path:
    """A PNG with completions per second and latency over time, beside the summary JSON."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(cips.seen.final_at[u], (cips.seen.final_at[u] - cips.seen.sent_at[u]) * 1000)
              for u in cips.seen.final_at if u in cips.seen.sent_at]
    points += [(corr.final_at[u], (corr.final_at[u] - corr.sent_at[u]) * 1000) for u in corr.final_at
               if u in corr.sent_at]
    png = report_dir / f"{s.app_id}-report.png"
    (report_dir / f"{s.app_id}-summary.json").write_text(json.dumps(summary, indent=2))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    if points:
        start = min(t for t, _ in points)
        per_second: Counter[int] = Counter(int(t - start) for t, _ in points)
        xs = sorted(per_second)
        ax1.bar(xs, [per_second[x] for x in xs], width=1.0, color="#2b6cb0")
        ax2.scatter([t - start for t, _ in points], [ms for _, ms in points], s=3, color="#c05621")
    ax1.set_ylabel("final statuses / s")
    ax1.set_title(f"corridor demo: {summary['payments']} payments, {summary['settled']} settled, "
                  f"p50 {summary['latency_ms']['p50']} ms, p99 {summary['latency_ms']['p99']} ms")
    ax2.set_ylabel("end-to-end latency (ms)")
    ax2.set_xlabel("seconds since first status")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
