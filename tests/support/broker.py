"""Where the tests' Kafka broker comes from.

``KAFKA_TEST_BROKER`` chooses: ``container`` (testcontainers on the locally built Kafka image; an
error, never a skip, when Docker or the image is missing), ``local``, or ``auto`` (the default):

1. ``KAFKA_BOOTSTRAP_SERVERS`` when set (an existing cluster, or CI's local broker);
2. else the Kafka container when a Docker engine answers and ``make images`` built the image;
3. else ``deploy/local/kafka start``: the real Apache Kafka broker from Maven Central, on loopback.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# Built by `make images` from Debian and the jars deploy/local/kafka pins: no registry holds it.
KAFKA_IMAGE = os.environ.get("KAFKA_TEST_IMAGE", "corridor/kafka:4.4.0")
# Containers share the host's network (the engine runs without a bridge), so the container's
# broker needs a port of its own, away from a local broker on 9092.
CONTAINER_PORT = int(os.environ.get("KAFKA_CONTAINER_PORT", "29092"))


def requested() -> str:
    mode = os.environ.get("KAFKA_TEST_BROKER", "auto")
    if mode not in ("auto", "container", "local"):
        raise ValueError(f"KAFKA_TEST_BROKER={mode!r}: expected auto, container or local")
    return mode


def docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def image_present(image: str = KAFKA_IMAGE) -> bool:
    try:
        import docker

        docker.from_env(timeout=3).images.get(image)
        return True
    except Exception:
        return False


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_container(port: int = CONTAINER_PORT) -> tuple[str, Any]:
    """The Kafka image on the host network, listening on 127.0.0.1:``port``; ready once it logged
    its start. The caller stops it (Ryuk, the reaper, is an image no registry here serves)."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    if not image_present():
        raise RuntimeError(f"image {KAFKA_IMAGE} is missing: run `make images` (no registry can serve it)")
    name = f"corridor-test-kafka-{port}"
    _remove_leftover(name)
    if port_taken(port):
        raise RuntimeError(f"127.0.0.1:{port} is taken: the Kafka container needs it (KAFKA_CONTAINER_PORT)")
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_name(name)
        .with_env("KAFKA_PORT", str(port))
        .with_env("KAFKA_CONTROLLER_PORT", str(port + 1))
        .with_kwargs(network_mode="host")
        .waiting_for(LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(180))
    )
    try:
        container.start()
    except BaseException:
        container.stop()
        raise
    return f"127.0.0.1:{port}", container


def _remove_leftover(name: str) -> None:
    """A run killed before its teardown leaves its container; without Ryuk nobody else removes it."""
    import docker

    client = docker.from_env(timeout=10)
    for c in client.containers.list(all=True, filters={"name": f"^{name}$"}):
        c.remove(force=True)


def start_local() -> str:
    script = REPO / "deploy" / "local" / "kafka"
    subprocess.run([str(script), "start"], check=True, timeout=600)
    out = subprocess.run([str(script), "bootstrap"], check=True, capture_output=True, text=True)
    return out.stdout.strip()
