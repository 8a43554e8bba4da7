"""``router demo``: start (or reuse) the broker, create topics, run the router and the simulated
corridor (CIPS / e-CNY banks, correspondent banks, FX feed), and show what happened."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from router.config import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]  # the checkout: connectors/ sits at its top


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run the corridor end to end on a real broker and report")
    p.add_argument("--payments", type=int, default=5000, help="number of payments (default 5000)")
    p.add_argument("--profile", choices=("steady", "singles-day", "red-packets"), default="steady",
                   help="traffic shape: steady rate, a 10x Singles Day surge, or a red-packet burst")
    p.add_argument("--chaos", type=int, default=0, metavar="K", help="SIGKILL a router process K times, restart it")
    p.add_argument("--hostile", type=int, default=0, metavar="N",
                   help="feed N hostile messages into cips.in / corr.in beside the good traffic; each must land "
                        "in the DLQ once, with its original bytes")
    p.add_argument("--broker-chaos", type=int, default=0, metavar="K",
                   help="SIGKILL + restart, or SIGSTOP past the session timeout + SIGCONT, the local broker K "
                        "times (>= 3: two kills, one freeze). Only a broker of its own: KAFKA_PORT and "
                        "KAFKA_HOME_DIR of a `deploy/local/kafka` instance, never the shared one")
    p.add_argument("--secured", action="store_true",
                   help="run on the secured local broker (KAFKA_SECURE=1 deploy/local/kafka): every role under "
                        "its own Kafka user, with ACLs applied for this run")
    p.add_argument("--workers", type=int, default=1, help="router worker and settlement processes of each kind")
    p.add_argument("--rate", type=float, default=None, help="payments per second (default: settings.sim)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every outcome")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")
    p.add_argument("--keep-earlier-runs", action="store_true",
                   help="keep the topics of demo runs started over two hours ago (deleted by default)")
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="logs, summary and plot go here")
    p.set_defaults(func=_run)


def secured_roles(s: Settings) -> tuple[Settings, dict[str, Settings]]:
    """Each role's settings from the secured local broker's users, and this run's ACLs applied."""
    from router.access import ADMIN, ROLES, principal, role_acls

    script = REPO / "deploy" / "local" / "kafka"
    env = dict(os.environ, KAFKA_SECURE="1")
    subprocess.run([str(script), "start"], check=True, env=env)
    out: dict[str, Settings] = {}
    for role in (ADMIN, *ROLES):
        found = subprocess.run([str(script), "env", role], check=False, env=env, capture_output=True, text=True)
        if found.returncode != 0 and role == "liquidity":
            continue  # a broker state made before that role had no user for it; the demo does not use it
        found.check_returncode()
        lines = found.stdout.splitlines()
        creds = dict(line.split("=", 1) for line in lines if "=" in line)
        kafka = s.kafka.model_validate({**s.kafka.model_dump(), **{
            k.removeprefix("ROUTER_KAFKA__").lower(): v for k, v in creds.items()}})
        out[role] = s.model_copy(update={"kafka": kafka})
    rules = "\n".join(acl.line(principal(role)) for role in ROLES
                      for acl in role_acls(role, topic_prefix=s.kafka.topic_prefix, app_id=s.app_id))
    subprocess.run([str(script), "acls"], input=rules, text=True, check=True, env=env, capture_output=True)
    return out.pop(ADMIN), out


def ensure_broker(s: Settings) -> None:
    """Start the local broker when the configured one is on this machine and silent."""
    host, _, port = s.kafka.hosts[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return
    except OSError:
        pass
    from router.cli import CliError

    script = REPO / "deploy" / "local" / "kafka"
    if host not in ("127.0.0.1", "localhost") or not script.exists():
        raise CliError(f"Kafka at {s.kafka.bootstrap_servers} does not answer")
    subprocess.run([str(script), "start"], check=True, env=dict(os.environ, KAFKA_PORT=port))


# A run id is the start time (epoch seconds, 8 hex digits) and 4 random hex digits; runs from
# before that scheme have 8 random hex digits.
RUN_ID = re.compile(r"demo-([0-9a-f]{8})([0-9a-f]{4})?[.-]")
STALE_AFTER_S = 2 * 3600  # no demo runs that long; a younger run may still be going in another shell


def new_run_id(now: float) -> str:
    return f"{int(now):08x}{uuid.uuid4().hex[:4]}"


def earlier_runs(topics: list[str], base_prefix: str, now: float) -> tuple[str, ...]:
    """Topic prefixes (the run's own topics and its app id's) of demo runs started over
    ``STALE_AFTER_S`` ago, or before run ids carried their start time."""
    out: set[str] = set()
    for t in topics:
        name = t[len(base_prefix):] if base_prefix and t.startswith(base_prefix) else t
        m = RUN_ID.match(name)
        if m and (m.group(2) is None or now - int(m.group(1), 16) > STALE_AFTER_S):
            out.add(t[: len(t) - len(name)] + m.group(0))
    return tuple(sorted(out))


async def drop_earlier_runs(s: Settings, base_prefix: str) -> int:
    """Delete the topics of earlier demo runs; recent runs' stay for ``router track``.

    Every run creates its own topics: left alone, a local broker soon holds thousands of
    partitions and takes minutes to start.
    """
    from router.kafka_clients import delete_topics_with_prefix, topic_names

    prefixes = earlier_runs(await topic_names(s.kafka), base_prefix, time.time())
    if prefixes:
        await delete_topics_with_prefix(s.kafka, prefixes)
    return len({p.rstrip(".-") for p in prefixes})


def demo_settings(base: Settings) -> Settings:
    """A fresh topic prefix and app id per run keep each demo's numbers its own. Every party is
    screened against the configured (by default the shipped real) lists plus the fictional demo
    list, whose names the simulators use so that the demo meets holds and rejections."""
    run_id = new_run_id(time.time())
    return base.model_copy(update={
        "app_id": f"demo-{run_id}",
        "screening": base.screening.with_demo_list(),
        "kafka": base.kafka.model_copy(update={"topic_prefix": f"{base.kafka.topic_prefix}demo-{run_id}."}),
    })


def _run(args: argparse.Namespace) -> int:
    from connectors.demo import demo_corridor_settings, run
    from router.cli import CliError
    from router.iso20022.directory import load_directory
    from router.kafka_clients import create_topics

    if args.payments < 1:
        raise CliError("--payments must be at least 1")
    base = get_settings()
    s = demo_corridor_settings(demo_settings(base), load_directory())
    if args.rate:
        s = s.model_copy(update={"sim": s.sim.model_copy(update={"rate_per_s": args.rate})})
    roles = None
    if args.secured:
        s, roles = secured_roles(s)
    else:
        ensure_broker(s)
    broker_dir = None
    if args.broker_chaos:
        home = os.environ.get("KAFKA_HOME_DIR")
        port = s.kafka.hosts[0].rpartition(":")[2]
        if not home or os.environ.get("KAFKA_PORT") != port or port == "9092":
            raise CliError("--broker-chaos kills the broker: run it on one of its own, started by "
                           "deploy/local/kafka with KAFKA_PORT (not 9092) and KAFKA_HOME_DIR set, and point "
                           "ROUTER_KAFKA__BOOTSTRAP_SERVERS at 127.0.0.1:$KAFKA_PORT")
        broker_dir = Path(home)
    if not args.keep_earlier_runs:
        dropped = asyncio.run(drop_earlier_runs(s, base.kafka.topic_prefix))
        if dropped:
            print(f"removed the topics of {dropped} earlier demo run(s)")
    asyncio.run(create_topics(s.kafka))
    print(f"demo {s.app_id}: {args.payments} payments, profile {args.profile}, topics under "
          f"{s.kafka.topic_prefix!r}")
    summary = asyncio.run(run(s, payments=args.payments, profile=args.profile, chaos=args.chaos,
                              workers=args.workers, report_dir=args.report_dir, timeout_s=args.timeout,
                              progress=not args.json, roles=roles, hostile=args.hostile,
                              broker_chaos=args.broker_chaos, broker_dir=broker_dir))
    summary["topic_prefix"] = s.kafka.topic_prefix
    _print(summary)
    if args.json:
        print(json.dumps(summary))
    accounted = (summary["settled"] + sum(summary["rejected"].values()) + summary["held"] + summary["returned"]
                 + summary["cancelled"])
    # Under broker faults a worker whose broker vanished may exit and be restarted (reported);
    # otherwise any crash fails the run.
    ok = (summary["ledger_check"]["ok"] and accounted == summary["payments"]
          and (not summary["crashes"] or bool(args.broker_chaos)))
    if args.hostile:
        h = summary["hostile"]
        ok = ok and h["missing"] == 0 and h["duplicated_in_dlq"] == 0 and h["original_bytes_kept"] == h["sent"]
    return 0 if ok else 1


def _print(s: dict[str, object]) -> None:
    lat = s["latency_ms"]
    ledger = s["ledger_check"]
    assert isinstance(lat, dict) and isinstance(ledger, dict)
    print(f"payments          {s['payments']}")
    print(f"settled           {s['settled']}")
    print(f"rejected          {sum(s['rejected'].values())}  {s['rejected']}")  # type: ignore[attr-defined]
    print(f"held              {s['held']}")
    print(f"returned          {s['returned']}")
    print(f"cancelled         {s['cancelled']}")
    if s.get("in_flight"):
        print(f"still in flight   {s['in_flight']}")
    print(f"volumes           {s['volumes']}")
    print(f"latency (ms)      p50 {lat['p50']}  p99 {lat['p99']}  ({lat['samples']} samples); settled only: "
          f"p50 {lat.get('settled_p50')}  p99 {lat.get('settled_p99')}")
    print(f"throughput        {s['throughput_per_s']} payments/s sustained while sending "
          f"({s['offered_per_s']}/s offered for {s['sending_s']} s; whole run {s['elapsed_s']} s with the drain)")
    verdict = "clean" if ledger["ok"] else f"{ledger['violations']} VIOLATIONS"
    print(f"ledger check      {verdict} ({ledger['commits']} commits, {ledger['aborts']} aborts)")
    liq: dict[str, Any] = s.get("liquidity") or {}  # type: ignore[assignment]
    kinds = liq.get("lsm_by_kind") or {}
    passes = ", ".join(f"{k} {v['sets']} sets / {v['settlements']} payments" for k, v in kinds.items()) or "none"
    print(f"liquidity saving  LSM {'on' if liq.get('lsm', True) else 'OFF'}: {ledger.get('lsm_runs', 0)} sets offset "
          f"{ledger.get('lsm_offset_settlements', 0)} queued payments ({passes}); "
          f"AM04 (queue timeout) {liq.get('am04', 0)}")
    cond: dict[str, Any] = s.get("conditional") or {}  # type: ignore[assignment]
    if cond.get("sent"):
        print(f"conditional       {cond['sent']} sent: {cond['settled']} released and settled, {cond['rejected']} "
              f"rejected {cond['rejected_reasons']}, {cond['cancelled']} cancelled (not in the latency figures)")
    if s.get("crashes"):
        print(f"CRASHED           {s['crashes']} (restarted; see the logs in the report directory)")
    if s.get("chaos_kills"):
        print(f"chaos             killed {s['chaos_kills']}")
    if s.get("hostile"):
        h = s["hostile"]
        assert isinstance(h, dict)
        print(f"hostile           {h['sent']} sent, {h['in_dlq']} in the DLQ with their bytes "
              f"({h['missing']} missing, {h['duplicated_in_dlq']} twice); by reason {h['by_reason']}")
    if s.get("broker_faults"):
        print(f"broker faults     {s['broker_faults']}; longest stall {s['longest_stall_s']} s")
    print(f"report            {s['report']}")
    print(f"look closer       ROUTER_KAFKA__TOPIC_PREFIX={s['topic_prefix']} router track <UETR> "
          "(or router peek --topic payments.status)")
