"""A secured cluster, for real: the local broker with SASL_SSL (SCRAM-SHA-512), its own CA and ACLs
per role. A demo runs with every role under its own user; a role with the wrong password, or one
reaching for topics outside its ACL, stops at start-up with a message naming the cause.

Runs when a secured broker can be started here (Java, Maven or a cached broker, openssl); on its
own port and data dir, never the shared broker's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_demo_run import run_demo
from tests.support.kafka import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "local" / "kafka"


@pytest.fixture(scope="module")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    missing = [t for t in ("java", "openssl") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"the secured broker needs {', '.join(missing)}")
    env = {**os.environ, "KAFKA_SECURE": "1", "KAFKA_PORT": str(free_port()),
           "KAFKA_CONTROLLER_PORT": str(free_port()), "KAFKA_HOME_DIR": str(tmp_path_factory.mktemp("secure-kafka"))}
    started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        pytest.skip(f"the secured broker did not start: {started.stderr[-500:]}")
    try:
        yield env
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, timeout=300)


def _role_env(broker: dict[str, str], role: str, **override: str) -> dict[str, str]:
    out = subprocess.run([str(SCRIPT), "env", role], env=broker, capture_output=True, text=True, check=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
    env.update(dict(line.split("=", 1) for line in out.splitlines() if "=" in line))
    env.update(override)
    return env


def test_demo_runs_with_a_user_per_role(secured_broker: dict[str, str], tmp_path: Path) -> None:
    bootstrap = f"127.0.0.1:{secured_broker['KAFKA_PORT']}"
    summary = run_demo(bootstrap, tmp_path, "--secured", "--payments", "120", "--rate", "30", "--hostile", "40",
                       extra_env=secured_broker)
    # Every payment accounted and the ledger clean (run_demo); most settle (the real lists hold some).
    assert summary["settled"] > 120 * 0.8
    assert summary["hostile"]["missing"] == 0


def _start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", *args], env=env, capture_output=True, text=True,
                          timeout=90)


def test_wrong_password_fails_at_start_with_a_clear_message(secured_broker: dict[str, str]) -> None:
    env = _role_env(secured_broker, "settlement", ROUTER_KAFKA__SASL_PASSWORD="not-the-password",
                    ROUTER_KAFKA__TOPIC_PREFIX="wrongpw.")
    proc = _start(env, "settle-worker")
    assert proc.returncode == 2
    assert "refused user 'router-settlement'" in proc.stderr and "wrong user name or password" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_role_outside_its_acl_fails_at_start_naming_what_it_may_not_use(secured_broker: dict[str, str]) -> None:
    admin = _role_env(secured_broker, "admin", ROUTER_KAFKA__TOPIC_PREFIX="acl.")
    assert _start(admin, "topics", "create").returncode == 0
    rules = _start(admin, "acls", "lines").stdout
    subprocess.run([str(SCRIPT), "acls"], env=secured_broker, input=rules, text=True, check=True, timeout=120)
    # the review page's user running the corridor stage: refused, by name
    proc = _start(_role_env(secured_broker, "review", ROUTER_KAFKA__TOPIC_PREFIX="acl."),
                  "worker", "--stages", "corridor", "--web-port", str(free_port()))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Kafka's ACLs refuse user 'router-review'" in proc.stderr
    assert "topic acl.cips.in" in proc.stderr and "group corridor-router.corridor" in proc.stderr
    assert "Traceback" not in proc.stderr
    # the settlement user reaching for the corridor's topics: refused too
    proc = _start(_role_env(secured_broker, "settlement", ROUTER_KAFKA__TOPIC_PREFIX="acl."),
                  "worker", "--stages", "screening", "--web-port", str(free_port()))
    assert proc.returncode == 2 and "topic acl.screening.requests" in proc.stderr
