"""Child ``router`` processes (workers, simulators) that share the parent's settings.

The demo and the tests both run router stages as separate OS processes, as an operator would;
settings travel through the environment so the child validates them exactly as at start-up.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from router.config import Settings


def _flatten(prefix: str, model: BaseModel, out: dict[str, str]) -> None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name.upper()}"
        if isinstance(value, BaseModel):
            _flatten(key + "__", value, out)
        elif value is None:
            continue
        elif isinstance(value, SecretStr):
            out[key] = value.get_secret_value()
        elif isinstance(value, dict | list | tuple | set | frozenset):
            out[key] = json.dumps(_jsonable(value))
        else:
            out[key] = str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


def settings_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that makes a child ``router`` process build exactly these settings."""
    env = {k: v for k, v in (base if base is not None else os.environ).items() if not k.startswith("ROUTER_")}
    flat: dict[str, str] = {}
    _flatten("ROUTER_", settings, flat)
    env.update(flat)
    return env


@dataclass
class RouterProcess:
    """A ``python -m router ...`` child with its output in a log file."""

    proc: subprocess.Popen[bytes]
    log: Path
    args: tuple[str, ...]
    # Where this process's output starts in a log shared with earlier runs (restarts append).
    start: int = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def own_output(self) -> str:
        return self.log.read_bytes()[self.start:].decode(errors="replace") if self.log.exists() else ""

    def wait_for(self, marker: str, timeout: float) -> None:
        """Wait for ``marker`` in what this process wrote (not in an earlier run's lines)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.own_output():
                return
            if not self.alive():
                raise RuntimeError(f"router {' '.join(self.args)} exited early:\n{self.output()[-4000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"router {' '.join(self.args)} not ready after {timeout}s:\n{self.output()[-4000:]}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL: the crash the fault-injection tests and ``--chaos`` need."""
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)


def free_port() -> int:
    """A free loopback port, for a child's web server: several routers must not collide."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(settings: Settings, log: Path, *args: str, extra_env: dict[str, str] | None = None) -> RouterProcess:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = settings_env(settings)
    env.update(extra_env or {})
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "router", *args], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return RouterProcess(proc, log, tuple(args), start)
