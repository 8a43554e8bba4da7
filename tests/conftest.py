"""Shared fixtures: the broker, per-test settings with fresh topic names, shared reference data."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from router.config import KafkaSettings, Settings
from tests.support import broker
from tests.support.kafka import free_port

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ROUTER_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"reference data folder {SHARED} is absent (ISO 20022 XSDs, samples, sanctions lists)")
    return SHARED


@pytest.fixture(scope="session")
def iso_xsd_dir(shared_dir: Path) -> Path:
    d = shared_dir / "iso20022" / "xsd"
    if not d.is_dir():
        pytest.skip(f"{d} is absent: official ISO 20022 XSDs are needed for base-schema checks")
    return d


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    mode = broker.requested()
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if env and mode != "container":
        yield env
        return
    if mode == "container" or (mode == "auto" and broker.docker_answers() and broker.image_present()):
        servers, container = broker.start_container()
        try:
            yield servers
        finally:
            container.stop()
        return
    yield broker.start_local()


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Settings for one test: fresh uuid-named topics, group and app id, stores under tmp_path."""
    run = uuid.uuid4().hex[:10]
    return Settings(
        app_id=f"test-{run}",
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{run}."),
        web={"port": free_port()},  # type: ignore[arg-type]
        state={"dir": tmp_path / "state"},  # type: ignore[arg-type]
    )


@pytest.fixture
async def topics(settings: Settings) -> AsyncIterator[Settings]:
    """All declared topics under the test's prefix; deleted afterwards so a long-lived local
    broker does not pile up thousands of partitions."""
    from router.kafka_clients import create_topics, delete_topics_with_prefix

    await create_topics(settings.kafka)
    yield settings
    await delete_topics_with_prefix(settings.kafka, (settings.kafka.topic_prefix, f"{settings.app_id}-"))
