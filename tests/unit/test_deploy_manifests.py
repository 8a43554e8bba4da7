"""Deployment manifests agree with the code: the topic declaration, the roles a payment needs, the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from router.cli.topics import topic_manifests
from router.config import Settings
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


# What a payment needs end to end: the payment stages, PvP settlement, and analysts.
ROLES = ('["worker"', '["settle-worker"', '["review-server"')


@pytest.mark.parametrize("manifest", ["k8s/router.yaml", "compose.yaml"])
def test_every_router_role_is_deployed(manifest: str) -> None:
    text = (REPO / "deploy" / manifest).read_text()
    missing = [r for r in ROLES if r not in text]
    assert not missing, f"deploy/{manifest} does not run {missing}"


@pytest.mark.parametrize("manifest", ["k8s/router.yaml", "compose.yaml"])
def test_every_setting_a_manifest_names_exists(manifest: str) -> None:
    for name in set(re.findall(r"\bROUTER_[A-Z0-9_]+", (REPO / "deploy" / manifest).read_text())):
        model: type[BaseModel] = Settings
        path = name.removeprefix("ROUTER_").lower().split("__")
        for i, part in enumerate(path):
            assert part in model.model_fields, f"deploy/{manifest}: {name} is not a setting ({part!r})"
            annotation = model.model_fields[part].annotation
            if i < len(path) - 1:
                assert isinstance(annotation, type) and issubclass(annotation, BaseModel), name
                model = annotation
