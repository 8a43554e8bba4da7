"""Deployment manifests agree with the topic declaration in router/topics.py."""

from __future__ import annotations

from pathlib import Path

from router.cli.topics import topic_manifests
from router.topics import TOPICS

REPO = Path(__file__).resolve().parents[2]


def test_k8s_topics_are_generated_from_the_declaration() -> None:
    committed = (REPO / "deploy" / "k8s" / "topics.yaml").read_text()
    assert committed == topic_manifests("corridor-kafka"), (
        "deploy/k8s/topics.yaml is stale: run `router topics manifest > deploy/k8s/topics.yaml`"
    )
    for t in TOPICS:
        assert f"topicName: {t.name}\n" in committed


def test_k8s_and_compose_create_topics_with_the_cli() -> None:
    assert 'args: ["topics", "create"]' in (REPO / "deploy" / "k8s" / "router.yaml").read_text()
    assert 'command: ["topics", "create"]' in (REPO / "deploy" / "compose.yaml").read_text()
