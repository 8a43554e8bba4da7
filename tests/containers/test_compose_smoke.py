"""Compose smoke test: every role of deploy/compose.yaml runs from the locally built images (a
Kafka container, topics, the payment worker, PvP settlement, the review page), on the host
network, and settles payments that a bank sends; `router ledger check` in a container closes it.

Runs in `make test-containers` (KAFKA_TEST_BROKER=container), where a missing engine or image is
an error; elsewhere (`make test`, no Docker) it is skipped, with the reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.demo import FX_PROVIDERS, demo_balances
from router.config import KafkaSettings, Settings
from router.procs import settings_env
from tests.e2e.test_corridor_paths import DIRECTORY, THIN_BALANCES, _publish_quotes, journey, send, traffic
from tests.support import broker
from tests.support.analysts import account_hashes
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
# Not the testcontainers broker's port (that container lives for the whole session), and below
# Linux's ephemeral range (32768-60999): at 39092 the broker once failed to bind, "Address already
# in use": no listener had it, so a client connection's local port did.
SMOKE_KAFKA_PORT = int(os.environ.get("CORRIDOR_SMOKE_KAFKA_PORT", "28092"))
PAYMENTS = 4


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    project: str

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker-compose", "-p", self.project, "-f", str(COMPOSE_FILE), *args],
                              env=self.env, capture_output=True, text=True, timeout=timeout, check=check)

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "60", check=False).stdout


def _require_engine() -> None:
    if broker.requested() != "container":
        pytest.skip("the compose smoke test runs in `make test-containers` (KAFKA_TEST_BROKER=container)")
    missing = [] if shutil.which("docker-compose") else ["docker-compose"]
    if not broker.docker_answers():
        missing.append("a Docker engine (make docker-up)")
    missing += [i for i in ("corridor/kafka:4.4.0", "corridor/router:latest") if not broker.image_present(i)]
    assert not missing, f"the container tier needs {missing}: run `make docker-up images`"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    _require_engine()
    for port in (SMOKE_KAFKA_PORT, SMOKE_KAFKA_PORT + 1):  # the broker's and its controller's
        assert not broker.port_taken(port), f"127.0.0.1:{port} is taken"
    run = uuid.uuid4().hex[:10]
    base = Settings()
    s = Settings(
        app_id=f"smoke-{run}",
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{SMOKE_KAFKA_PORT}", topic_prefix=f"s{run}."),
        web={"port": free_port()},  # type: ignore[arg-type]
        settlement=base.settlement.model_copy(update={
            "opening_balances": demo_balances(DIRECTORY, thin=THIN_BALANCES), "fx_providers": FX_PROVIDERS}),
        # Inside the containers (user router): the host's default, under root's home, is not theirs.
        state={"dir": "/tmp/corridor-router-state"},  # type: ignore[arg-type]
    )
    # Readable by the containers' user (uid 10001): pytest's own tmp dirs are private to root.
    work = Path(tempfile.mkdtemp(prefix="corridor-smoke-"))
    work.chmod(0o755)
    settings_file = work / "router.env"
    lines = [f"{k}={v}" for k, v in sorted(settings_env(s, base={}).items())]
    assert not any("\n" in line for line in lines), "an env file holds one setting per line"
    settings_file.write_text("\n".join(lines) + "\n")
    analysts = work / "analysts.txt"
    analysts.write_text("".join(f"{name}:{h}\n" for name, h in account_hashes().items()))
    analysts.chmod(0o644)
    review_port = free_port()
    env = {**os.environ, "CORRIDOR_KAFKA_PORT": str(SMOKE_KAFKA_PORT), "CORRIDOR_ENV_FILE": str(settings_file),
           "CORRIDOR_ANALYSTS_FILE": str(analysts), "CORRIDOR_WORKER_PORT": str(s.web.port),
           "CORRIDOR_REVIEW_PORT": str(review_port)}
    stack = Stack(s, env, f"corridor-smoke-{run}")
    stack.env["CORRIDOR_SMOKE_REVIEW_URL"] = f"http://127.0.0.1:{review_port}/healthz"
    try:
        up = stack.compose("up", "-d", check=False)
        assert up.returncode == 0, up.stderr + stack.logs()
        yield stack
    finally:
        stack.compose("down", "-v", "--remove-orphans", "-t", "20", check=False)
        shutil.rmtree(work, ignore_errors=True)


def _wait_for_log(stack: Stack, service: str, marker: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in stack.compose("logs", "--no-color", service, check=False).stdout:
            return
        time.sleep(1)
    raise AssertionError(f"{service} did not log {marker!r} within {timeout}s\n{stack.logs()}")


def test_every_role_runs_from_the_images(stack: Stack) -> None:
    _wait_for_log(stack, "worker", "Ready")
    ps = stack.compose("ps", check=False).stdout
    for service in ("kafka", "worker", "settlement", "review"):
        assert f"{stack.project}_{service}_1" in ps, ps
    deadline = time.monotonic() + 60
    status = 0
    while time.monotonic() < deadline and status != 200:
        try:
            status = httpx.get(stack.env["CORRIDOR_SMOKE_REVIEW_URL"], timeout=2).status_code
        except httpx.HTTPError:
            time.sleep(1)
    assert status == 200, stack.logs()


def test_payments_settle_and_the_ledger_checks(stack: Stack) -> None:
    s = stack.settings
    _wait_for_log(stack, "worker", "Ready")
    asyncio.run(_publish_quotes(s))
    sim = traffic(7)
    sent = []
    for i in range(PAYMENTS):
        p, _ = sim.payment(kind="pacs.008", wallet=False, to=DIRECTORY.by_bic("NRDBDEFF"),
                           amount=Decimal("1000.00") + i)
        asyncio.run(send(s, "cips", p, p.uetr))
        sent.append(p.uetr)
    try:
        for uetr in sent:
            asyncio.run(journey(s, uetr, "settled", timeout=120))
    except AssertionError as e:
        raise AssertionError(f"{e}\n{stack.logs()}") from e
    # The operator's check, run from the router image on the same stack.
    check = stack.compose("run", "--rm", "--no-deps", "topics", "ledger", "check", "--json", "--wait", "30",
                          check=False, timeout=180)
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout[check.stdout.index("{"):])
    assert report["ok"] and report["violation_count"] == 0, report
    assert report["commits"] >= PAYMENTS, report
