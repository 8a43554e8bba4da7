"""Settings are validated at start-up; the topic contract is internally consistent."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from router.config import KafkaSettings, Settings
from router.dlq import dlq_headers, header_dict
from router.outcome import Reject
from router.topics import BY_NAME, TOPICS, topic_name


def test_env_overrides_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER_KAFKA__BOOTSTRAP_SERVERS", "h1:9093,h2:9094")
    monkeypatch.setenv("ROUTER_KAFKA__TOPIC_PREFIX", "prod.")
    s = Settings()
    assert s.kafka.hosts == ["h1:9093", "h2:9094"]
    assert s.kafka.topic_prefix == "prod."


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.app_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["", "nohost", "host:port", ":9092"])
def test_bad_bootstrap_servers_fail_at_start_up(bad: str) -> None:
    with pytest.raises(ValidationError):
        KafkaSettings(bootstrap_servers=bad)


def test_sasl_needs_credentials_and_hides_the_password() -> None:
    with pytest.raises(ValidationError, match="needs sasl_mechanism"):
        KafkaSettings(security_protocol="SASL_SSL")
    k = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                      sasl_username="u", sasl_password="hunter2")  # type: ignore[arg-type]
    assert "hunter2" not in repr(k)


def test_bad_router_bic_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(router_bic="NOT A BIC")


def test_topic_contract() -> None:
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    for required in ("cips.in", "cips.out", "corr.in", "corr.out", "fx.rates", "screening.cases",
                     "screening.decisions", "settlement.requests", "settlement.events", "settlement.ledger.state",
                     "payments.status", "router.dlq"):
        assert required in BY_NAME
    assert BY_NAME["fx.rates"].kafka_config()["cleanup.policy"] == "compact"
    assert BY_NAME["payments.status"].kafka_config()["cleanup.policy"] == "compact"
    assert "retention.ms" in BY_NAME["router.dlq"].kafka_config()
    # The ledger journal is its own evidence: never deleted, one partition per shard, in booking order.
    assert BY_NAME["settlement.events"].kafka_config() == {"cleanup.policy": "delete", "retention.ms": "-1"}
    assert BY_NAME["settlement.requests"].partitions == BY_NAME["settlement.ledger.state"].partitions == 1
    assert topic_name("cips.in", "p.") == "p.cips.in"
    with pytest.raises(KeyError):
        topic_name("nope")


def test_dlq_headers_keep_provenance_and_original_headers() -> None:
    hs = dlq_headers(Reject("FF01", "bad", "parse"), topic="cips.in", partition=2, offset=41,
                     original=[("trace", b"abc"), ("dlq.reason.code", b"old")])
    d = header_dict(hs)
    assert d["dlq.reason.code"] == "FF01"
    assert d["dlq.source.offset"] == "41"
    assert d["dlq.source.partition"] == "2"
    assert d["trace"] == "abc"
    assert [k for k, _ in hs].count("dlq.reason.code") == 1
