"""Small aiokafka helpers for integration tests: produce, consume until a condition, run a worker."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from router.config import Settings
from router.kafka_clients import client_options
from router.topics import topic_name


async def produce(
    settings: Settings, topic: str, value: bytes, *, key: bytes | None = None,
    headers: Iterable[tuple[str, bytes]] = (),
) -> None:
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name(topic, settings.kafka.topic_prefix), value, key=key,
                                     headers=list(headers))
    finally:
        await producer.stop()


async def consume(
    settings: Settings, topic: str, *, until: Callable[[list[ConsumerRecord]], bool],
    timeout: float = 30.0,
) -> list[ConsumerRecord]:
    """Read ``topic`` from the beginning (read_committed) until ``until(records)`` or timeout."""
    consumer = AIOKafkaConsumer(
        topic_name(topic, settings.kafka.topic_prefix), **client_options(settings.kafka), group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False, isolation_level="read_committed",
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a child ``router`` process use the same settings as the test."""
    env = dict(os.environ)
    env.update({
        "ROUTER_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "ROUTER_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "ROUTER_APP_ID": settings.app_id,
        "ROUTER_STORE_URL": settings.store_url,
        "ROUTER_DATA_DIR": str(settings.data_dir),
        "ROUTER_WEB__PORT": str(settings.web.port),
        "ROUTER_LOG_LEVEL": "info",
    })
    if settings.iso20022_xsd_dir:
        env["ROUTER_ISO20022_XSD_DIR"] = str(settings.iso20022_xsd_dir)
    return env


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def start_worker(settings: Settings, log: Path, *args: str, ready_marker: str = "Ready",
                 timeout: float = 60.0) -> WorkerProcess:
    """Start ``router worker ARGS`` in a child process and wait for faust's ready line."""
    fh = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "router", "worker", *args], env=settings_env(settings),
        stdout=fh, stderr=subprocess.STDOUT,
    )
    w = WorkerProcess(proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not w.alive():
            raise RuntimeError(f"worker exited early:\n{w.output()[-4000:]}")
        if ready_marker in w.output():
            return w
        time.sleep(0.2)
    w.stop()
    raise TimeoutError(f"worker not ready after {timeout}s:\n{w.output()[-4000:]}")


def run(coro: object) -> object:
    return asyncio.get_event_loop().run_until_complete(coro)  # type: ignore[arg-type]
