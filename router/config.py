"""One frozen settings object, validated at start-up, overridable from the environment.

Every tunable of the router lives here (or in a section model it nests) so that an operator
has one place to look and a bad value stops the process before it touches Kafka.
Environment variables use the prefix ``ROUTER_`` and ``__`` for nesting, e.g.
``ROUTER_KAFKA__BOOTSTRAP_SERVERS`` or ``ROUTER_FX__SPREAD_BPS``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from router.corridor.settings import CorridorSettings
from router.fx.settings import FxSettings
from router.screening.settings import ScreeningSettings
from router.settlement.settings import SettlementSettings
from router.simulation_settings import SimSettings


class KafkaSettings(BaseModel):
    """How to reach the Kafka cluster. SASL and TLS are optional; secrets never print."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    topic_prefix: str = ""
    # Small session/rebalance timeouts: a first group join waits up to a session timeout.
    session_timeout_s: float = 10.0
    rebalance_timeout_s: float = 10.0
    fetch_max_wait_ms: int = 50
    # How long a stage task gathers processed work before committing it as one transaction
    # (Kafka Streams' commit.interval.ms; 0: a transaction per fetched batch). Each transaction
    # costs the broker and client about the same whatever it carries, so longer intervals cost
    # less CPU per payment and add up to this much latency per hop.
    commit_interval_ms: int = Field(default=100, ge=0, le=10_000)
    # The stages' consumers ask the broker to hold a fetch until this much is there (or
    # fetch_max_wait_ms passes): fewer, larger batches, so fewer transactions and requests per
    # payment, for at most fetch_max_wait_ms more latency per hop on a quiet topic.
    fetch_min_bytes: int = Field(default=64 * 1024, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    # Static group membership (KIP-345): a process restarted under the same name takes its
    # partitions straight back instead of waiting a session timeout for a rebalance. One name per
    # running process (a StatefulSet pod name, say); two live processes must never share one.
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,200}$")

    @field_validator("bootstrap_servers")
    @classmethod
    def _hosts_have_ports(cls, v: str) -> str:
        hosts = [h.strip() for h in v.replace("kafka://", "").split(",") if h.strip()]
        if not hosts:
            raise ValueError("at least one bootstrap server is required")
        for h in hosts:
            host, sep, port = h.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"bootstrap server {h!r} must be host:port")
        return ",".join(hosts)

    @model_validator(mode="after")
    def _sasl_complete(self) -> KafkaSettings:
        complete = self.sasl_mechanism and self.sasl_username and self.sasl_password
        if self.security_protocol.startswith("SASL") and not complete:
            raise ValueError(f"{self.security_protocol} needs sasl_mechanism, sasl_username and sasl_password")
        return self

    @property
    def hosts(self) -> list[str]:
        return self.bootstrap_servers.split(",")


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # CBPR+ caps a business message at 100 KB; anything far larger is hostile or broken.
    max_message_bytes: int = Field(default=256 * 1024, ge=1024)


class WebSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=6066, ge=0, le=65535)
    # Analysts sign in with their own accounts: name -> argon2 hash (``router review-account``),
    # here and/or in a file of name:hash lines. The page refuses to start without any.
    accounts: dict[str, str] = Field(default_factory=dict)
    accounts_file: Path | None = None
    session_secret: SecretStr = SecretStr("dev-only-session-secret-change-me")
    # The session cookie's Secure flag. Browsers send it only over https (and to localhost); turn
    # it off only for a local page served over plain http on another host name.
    cookie_secure: bool = True
    # Which held payments take two analysts to release: those with a sanctions hit, or all.
    four_eyes: Literal["sanctions", "all"] = "sanctions"
    # Sign-in attempts per minute from one client address (per-account lockout comes on top).
    login_attempts_per_minute: int = Field(default=20, ge=1)
    # Accounts (of the above) that may open the liquidity view (/liquidity): balances, queues,
    # caps, LSM runs, and fund accounts or change caps. None: the view is off.
    liquidity_operators: tuple[str, ...] = ()


class StateSettings(BaseModel):
    """Where the stages keep their state between transactions.

    ``rocksdb``: an embedded on-disk store per task (its changelog is the backup, as in Kafka
    Streams), so memory stays flat as retained payments grow and a restart only replays the
    changelog's tail past the store's checkpoint. ``memory``: Python dicts restored from the
    changelog in full on every start (tests, and a quick look)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["rocksdb", "memory"] = "rocksdb"
    dir: Path = Path.home() / ".cache" / "corridor-router" / "state"
    # Warm copies of the tasks this process does not own (Kafka Streams' num.standby.replicas,
    # simplified: 1 = a copy of every other task of its stages), so a takeover replays seconds.
    standby_replicas: int = Field(default=0, ge=0, le=1)
    write_buffer_mb: int = Field(default=16, ge=1)  # per task: RocksDB's memtable (fewer flushes, compactions)
    block_cache_mb: int = Field(default=64, ge=8)  # shared by every task of the process
    # Stores write without RocksDB's WAL (the changelog is the log); their memtables are flushed
    # this often, which bounds what a SIGKILLed process replays from the changelog on restart.
    flush_interval_s: float = Field(default=10.0, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ROUTER_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    app_id: str = "corridor-router"
    router_bic: str = Field(default="ROUTCNSHXXX", pattern=r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")
    # Directory holding the official ISO 20022 XSDs (published by ISO, not redistributed here).
    iso20022_xsd_dir: Path | None = None
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    # json: one JSON object per line, with uetr, stage, partition and offset on lines about a
    # payment (for a log pipeline; the Kubernetes manifests set it); text: for a terminal.
    log_format: Literal["text", "json"] = "text"
    # The corridor's journey lines (logger ``router.journey``, INFO): ``outcome`` writes one line
    # when a payment reaches its outcome, with every hop in it; ``hops`` one line per hop as it
    # happens (~0.4 ms of worker CPU per payment at 300/s, measured); ``off`` none.
    log_journey: Literal["outcome", "hops", "off"] = "outcome"
    # The garbage collector's first threshold in worker processes (router.heap; 0: CPython's
    # default 700). Start-up's objects are frozen out of collections as well.
    gc_gen0_threshold: int = Field(default=10_000, ge=0)

    kafka: KafkaSettings = KafkaSettings()
    ingest: IngestSettings = IngestSettings()
    web: WebSettings = WebSettings()
    fx: FxSettings = FxSettings()
    screening: ScreeningSettings = ScreeningSettings()
    settlement: SettlementSettings = SettlementSettings()
    sim: SimSettings = SimSettings()
    corridor: CorridorSettings = CorridorSettings()
    state: StateSettings = StateSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment (tests build their own)."""
    return Settings()
