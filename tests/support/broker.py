"""Where the tests' Kafka broker comes from.

1. ``KAFKA_BOOTSTRAP_SERVERS`` when set (an existing cluster, or CI's local broker);
2. else a testcontainers Apache Kafka container when a Docker engine answers;
3. else ``deploy/local/kafka start``: the real Apache Kafka broker from Maven Central, on loopback.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# testcontainers' KafkaContainer drives Confluent's image (its start script and readiness line);
# cp-kafka 7.9 is Apache Kafka 3.9 in KRaft mode, transactions included.
KAFKA_IMAGE = os.environ.get("KAFKA_TEST_IMAGE", "confluentinc/cp-kafka:7.9.0")


def docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def start_container() -> tuple[str, object]:
    from testcontainers.kafka import KafkaContainer

    container = KafkaContainer(image=KAFKA_IMAGE).with_kraft()
    container.start()
    return container.get_bootstrap_server(), container


def start_local() -> str:
    script = REPO / "deploy" / "local" / "kafka"
    subprocess.run([str(script), "start"], check=True, timeout=600)
    out = subprocess.run([str(script), "bootstrap"], check=True, capture_output=True, text=True)
    return out.stdout.strip()
