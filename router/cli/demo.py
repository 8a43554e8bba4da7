"""``router demo``: start (or reuse) the broker, create topics, run the router and its simulated
corridor, and show what happened."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import uuid
from pathlib import Path

from router.config import Settings, get_settings

REPO = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run the corridor demo end to end on a real broker")
    p.add_argument("--payments", type=int, default=50, help="number of payments to send")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on the last line")
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="where logs and reports go")
    p.set_defaults(func=_run)


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


def demo_settings(base: Settings) -> Settings:
    """A fresh topic prefix and app id per run keep each demo's numbers its own."""
    run_id = uuid.uuid4().hex[:8]
    return base.model_copy(update={
        "app_id": f"demo-{run_id}",
        "kafka": base.kafka.model_copy(update={"topic_prefix": f"{base.kafka.topic_prefix}demo-{run_id}."}),
    })


def _run(args: argparse.Namespace) -> int:
    from router.demo.ingest_demo import run_ingest_demo
    from router.kafka_clients import create_topics

    s = demo_settings(get_settings())
    ensure_broker(s)
    asyncio.run(create_topics(s.kafka))
    return run_ingest_demo(s, payments=args.payments, report_dir=args.report_dir, as_json=args.json)
