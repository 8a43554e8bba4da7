"""deploy/local/kafka's start logic, against a fake ``java`` that behaves like a broker (no JVM).

The broker logs a line per partition while it starts and many more right after it; a ready check
that piped the log into ``grep -q`` under pipefail died of SIGPIPE on such a log and reported a
running broker as "did not answer within 90s". A start that makes no progress must fail on its
own, saying where it stopped.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "local" / "kafka"

FAKE_JAVA = """#!{python}
# A stand-in for `java ... kafka.Kafka server.properties`: log like a starting broker, then serve.
import re, socket, sys, time
args = sys.argv[1:]
if "kafka.Kafka" not in args:
    sys.exit(0)
props = open(args[-1]).read()
port = int(re.search(r"listeners=PLAINTEXT://127.0.0.1:(\\d+)", props).group(1))
log = re.search(r"fileName: \\"([^\\"]+)\\"", open(args[args.index("kafka.Kafka") - 3].split("=", 1)[1]).read())
mode = "{mode}"
if mode == "hang":
    time.sleep(600)
with open(log.group(1), "a") as fh:
    stamp = "[2026-12-02 08:54:47,321] INFO "
    fh.write(stamp + "[ControllerServer id=1] Starting controller (kafka.server.ControllerServer)\\n")
    fh.write(stamp + "Loading logs from log dirs [/x] (org.apache.kafka.storage.internals.log.LogManager)\\n")
    for i in range(3000):
        fh.write(stamp + f"Completed load of Log(dir=/x/t.p-{{i}}) with 1 segments in 1ms ({{i}}/3000 completed)\\n")
    fh.write("[2026-12-02 08:54:59,000] INFO Loaded 3000 logs in 11679ms (LogManager)\\n")
    fh.write("[2026-12-02 08:55:01,500] INFO [KafkaRaftServer nodeId=1] Kafka Server started (KafkaRaftServer)\\n")
    for i in range(20000):  # coordinators loading after the start: far more than a pipe buffer
        fh.write(stamp + f"[GroupCoordinator] Loaded group metadata for partition {{i}} " + "x" * 80 + "\\n")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen()
time.sleep(600)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake_broker(tmp_path: Path) -> tuple[dict[str, str], Path]:
    state, jars, bin_dir = tmp_path / "state", tmp_path / "jars" / "4.4.0", tmp_path / "bin"
    (state / "data").mkdir(parents=True)
    (state / "data" / "meta.properties").write_text("node.id=1\n")  # formatted already
    jars.mkdir(parents=True)
    (jars / ".complete").touch()
    bin_dir.mkdir()
    env = {**os.environ, "KAFKA_HOME_DIR": str(state), "KAFKA_CACHE_DIR": str(tmp_path / "jars"),
           "KAFKA_PORT": str(_free_port()), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return env, bin_dir


def _java(bin_dir: Path, mode: str) -> None:
    java = bin_dir / "java"
    java.write_text(FAKE_JAVA.format(python=sys.executable, mode=mode))
    java.chmod(java.stat().st_mode | stat.S_IXUSR)


def _kafka(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_start_sees_a_broker_that_logs_a_lot_after_starting(fake_broker: tuple[dict[str, str], Path]) -> None:
    env, bin_dir = fake_broker
    _java(bin_dir, "serve")
    try:
        r = _kafka({**env, "KAFKA_START_STALL": "20"}, "start")
        assert r.returncode == 0, r.stderr
        assert "up on 127.0.0.1" in r.stderr and "last shutdown unclean" in r.stderr
        timings = _kafka(env, "timings").stdout
        assert "Loaded 3000 logs in 11679ms" in timings
        assert "14.18 s  Kafka Server started" in timings  # 08:54:47.321 -> 08:55:01.500
        again = _kafka(env, "start")
        assert again.returncode == 0 and "already running" in again.stderr
    finally:
        assert "stopped" in _kafka(env, "stop").stderr


def test_a_start_without_progress_fails_and_says_where(fake_broker: tuple[dict[str, str], Path]) -> None:
    env, bin_dir = fake_broker
    _java(bin_dir, "hang")
    try:
        r = _kafka({**env, "KAFKA_START_STALL": "2"}, "start")
        assert r.returncode == 1
        assert "log silent for" in r.stderr and "0 partition directories" in r.stderr
    finally:
        _kafka(env, "stop")
