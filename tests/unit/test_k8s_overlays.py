"""The Kubernetes packaging renders, validates against the Kubernetes API schemas, and means something.

Each overlay in deploy/overlays is rendered with kustomize (a `kustomize` binary, `make tools`
installs one, or `kubectl kustomize`). Every built-in object is validated offline and strictly
(unknown fields are errors) with kubernetes-validate; the custom resources (KEDA, Strimzi) are
checked here field by field. Then the operational rules: probes, resources, disruption budgets,
static membership, and autoscaling on consumer lag capped at the partition count of the role's
inputs as router/topics.py declares it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from router.bootstrap import PAYMENT_STAGES
from router.config import Settings
from router.pipeline.corridor_stage import CorridorLogic
from router.pipeline.screening_stage import ScreeningLogic
from router.pipeline.settlement_stage import SettlementLogic
from router.topics import BY_NAME

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (REPO / "deploy" / "overlays").iterdir() if (p / "kustomization.yaml").exists())
K8S_VERSION = "1.32.0"  # the oldest Kubernetes the manifests must run on
APP_ID = Settings().app_id


@dataclass(frozen=True)
class Role:
    """A workload that consumes Kafka: its consumer groups and the partitioned topics they split."""

    groups: dict[str, tuple[str, ...]]
    static_membership: bool = True  # the transactional processor's group.instance.id

    @property
    def partition_cap(self) -> int:
        # A replica beyond the smallest input's partition count owns nothing of that input.
        return min(BY_NAME[t].partitions for inputs in self.groups.values() for t in inputs)


_TRANSACTIONAL = {"screening": ScreeningLogic, "corridor": CorridorLogic}
# Keyed by the workload's name in deploy/k8s/router.yaml. Change this table when a role changes.
ROLES: dict[str, Role] = {
    **{f"corridor-router-{s}": Role({f"{APP_ID}.{s}": tuple(_TRANSACTIONAL[s].inputs)}) for s in PAYMENT_STAGES},
    "corridor-router-settlement": Role({f"{APP_ID}.{SettlementLogic.name}": tuple(SettlementLogic.inputs)}),
}
CUSTOM = {("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication"),
          ("kafka.strimzi.io/v1beta2", "KafkaTopic")}


def _renderer() -> list[str] | None:
    local = REPO / ".tools" / "bin" / "kustomize"
    if local.exists():
        return [str(local), "build"]
    if found := shutil.which("kustomize"):
        return [found, "build"]
    if found := shutil.which("kubectl"):
        return [found, "kustomize"]
    return None


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    cmd = _renderer()
    if cmd is None:
        pytest.skip("no kustomize renderer: run `make tools` (installs kustomize from the Go module proxy)")
    out = subprocess.run([*cmd, str(REPO / "deploy" / "overlays" / overlay)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "KUBECONFIG": os.devnull})
    assert out.returncode == 0, f"{overlay} does not render: {out.stderr}"
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def of_kind(docs: tuple[dict[str, Any], ...], *kinds: str) -> Iterator[dict[str, Any]]:
    return (d for d in docs if d["kind"] in kinds)


def by_name(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in of_kind(docs, kind)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_builtin_object_is_valid_kubernetes(overlay: str) -> None:
    docs = rendered(overlay)
    assert docs
    for d in docs:
        if (d["apiVersion"], d["kind"]) in CUSTOM:
            continue
        try:
            kubernetes_validate.validate(d, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {d['kind']}/{d['metadata']['name']}: {exc.message} at {list(exc.path)}")
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{overlay}: {d['apiVersion']} {d['kind']} is not a Kubernetes {K8S_VERSION} kind")


def test_every_overlay_is_checked() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_has_probes_and_resources(overlay: str) -> None:
    for w in of_kind(rendered(overlay), "Deployment", "StatefulSet"):
        for c in w["spec"]["template"]["spec"]["containers"]:
            where = f"{overlay}: {w['kind']}/{w['metadata']['name']}/{c['name']}"
            res = c.get("resources", {})
            assert {"cpu", "memory"} <= set(res.get("requests", {})), f"{where}: cpu and memory requests"
            assert "memory" in res.get("limits", {}), f"{where}: memory limit"
            assert "livenessProbe" in c and "readinessProbe" in c, f"{where}: liveness and readiness probes"
            # Ready means restored: the app's /healthz answers 503 until its state is restored.
            assert c["readinessProbe"].get("httpGet", {}).get("path") == "/healthz", where
            ports = {p["name"] for p in c.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                spec = c.get(probe, {})
                port = (spec.get("httpGet") or spec.get("tcpSocket") or {}).get("port")
                assert port is None or port in ports, f"{where}: {probe} names port {port!r} it does not open"
            if w["metadata"]["name"] in ROLES:
                # A long restore must not get a pod killed: liveness cannot hang on readiness.
                assert c["livenessProbe"] != c["readinessProbe"], f"{where}: liveness = readiness"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_has_a_disruption_budget(overlay: str) -> None:
    docs = rendered(overlay)
    budgets = list(of_kind(docs, "PodDisruptionBudget"))
    for w in of_kind(docs, "Deployment", "StatefulSet"):
        labels = w["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets
                    if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(covering) == 1, f"{overlay}: {w['metadata']['name']} has {len(covering)} disruption budgets"
        assert covering[0]["spec"].get("maxUnavailable") == 1, "at most one pod of a role down at a time"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_partition_owners_are_statefulsets_with_static_membership(overlay: str) -> None:
    docs = rendered(overlay)
    sets, services = by_name(docs, "StatefulSet"), by_name(docs, "Service")
    for name, role in ROLES.items():
        if not role.static_membership:
            continue
        assert name in sets, f"{overlay}: {name} owns partitions and state; run it as a StatefulSet"
        sts = sets[name]
        assert services[sts["spec"]["serviceName"]]["spec"].get("clusterIP") == "None", "headless service"
        env = {e["name"]: e for e in sts["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        ref = env.get("ROUTER_KAFKA__INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
        assert ref.get("fieldPath") == "metadata.name", f"{overlay}: {name}: the pod name is its group.instance.id"


def _workloads(docs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    return {**by_name(docs, "Deployment"), **by_name(docs, "StatefulSet")}


def _check_target(overlay: str, docs: tuple[dict[str, Any], ...], ref: dict[str, Any]) -> Role:
    target = _workloads(docs).get(ref["name"])
    assert target is not None and target["kind"] == ref["kind"], f"{overlay}: scales a missing {ref}"
    assert ref["apiVersion"] == "apps/v1"
    assert ref["name"] in ROLES, f"{overlay}: {ref['name']} consumes no Kafka group to scale on"
    return ROLES[ref["name"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_never_exceed_the_partition_count(overlay: str) -> None:
    docs = rendered(overlay)
    for name, w in _workloads(docs).items():
        if name in ROLES:
            assert w["spec"]["replicas"] <= ROLES[name].partition_cap, f"{overlay}: {name}"
    for so in of_kind(docs, "ScaledObject"):
        role = _check_target(overlay, docs, so["spec"]["scaleTargetRef"])
        assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"] <= role.partition_cap
        assert so["spec"]["fallback"]["replicas"] <= role.partition_cap
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        role = _check_target(overlay, docs, hpa["spec"]["scaleTargetRef"])
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= role.partition_cap


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_scale_every_group_of_their_role_on_lag(overlay: str) -> None:
    docs = rendered(overlay)
    auths = by_name(docs, "TriggerAuthentication")
    secrets = by_name(docs, "Secret")
    config = next(of_kind(docs, "ConfigMap"))["data"]
    scaled: set[str] = set()
    for so in of_kind(docs, "ScaledObject"):
        name = so["spec"]["scaleTargetRef"]["name"]
        role, scaled = ROLES[name], scaled | {name}
        triggers = so["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"kafka"}
        assert {t["metadata"]["consumerGroup"] for t in triggers} == set(role.groups), name
        for t in triggers:
            md = t["metadata"]
            assert md["bootstrapServers"] == config["ROUTER_KAFKA__BOOTSTRAP_SERVERS"], "the router's own cluster"
            assert int(md["lagThreshold"]) > 0 and md["allowIdleConsumers"] == "false"
            assert md.get("topic", role.groups[md["consumerGroup"]][0]) in role.groups[md["consumerGroup"]]
            for ref in auths[t["authenticationRef"]["name"]]["spec"]["secretTargetRef"]:
                assert ref["key"] in secrets[ref["name"]]["stringData"], ref
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        name = hpa["spec"]["scaleTargetRef"]["name"]
        role, scaled = ROLES[name], scaled | {name}
        metrics = [m["external"]["metric"] for m in hpa["spec"]["metrics"]]
        assert {m["name"] for m in metrics} == {"router_consumer_lag"}
        assert {m["selector"]["matchLabels"]["group"] for m in metrics} == set(role.groups), name
        for m in metrics:
            labels = m["selector"]["matchLabels"]
            assert labels.get("topic", role.groups[labels["group"]][0]) in role.groups[labels["group"]]
    if overlay.startswith("prod"):
        assert scaled == {n for n, r in ROLES.items() if r.partition_cap > 1}, f"{overlay} scales {scaled}"
    scalers = [*of_kind(docs, "ScaledObject"), *of_kind(docs, "HorizontalPodAutoscaler")]
    targets = [s["spec"]["scaleTargetRef"]["name"] for s in scalers]
    assert len(targets) == len(set(targets)), f"{overlay}: two autoscalers fight over one workload"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_gets_settings_that_load(overlay: str) -> None:
    docs = rendered(overlay)
    maps, secrets = by_name(docs, "ConfigMap"), by_name(docs, "Secret")
    for w in [*of_kind(docs, "Deployment", "StatefulSet"),
              *(j["spec"]["jobTemplate"] for j in of_kind(docs, "CronJob")), *of_kind(docs, "Job")]:
        for c in w["spec"]["template"]["spec"]["containers"]:
            env: dict[str, str] = {}
            for src in c.get("envFrom", []):
                if "configMapRef" in src:
                    env |= maps[src["configMapRef"]["name"]]["data"]
                else:
                    env |= secrets[src["secretRef"]["name"]]["stringData"]
            env |= {e["name"]: e.get("value", "from-the-pod") for e in c.get("env", [])}
            # The settings a pod starts with, read from its environment as the pod reads them: unknown
            # names and invalid values are refused here, not at 3 a.m.
            with pytest.MonkeyPatch.context() as mp:
                for name in [n for n in os.environ if n.startswith("ROUTER_")]:
                    mp.delenv(name)
                for name, value in env.items():
                    if name.startswith("ROUTER_"):
                        mp.setenv(name, value)
                Settings()


def test_dev_talks_plaintext_to_one_broker_and_prod_uses_sasl() -> None:
    dev = next(of_kind(rendered("dev"), "ConfigMap"))["data"]
    prod = next(of_kind(rendered("prod"), "ConfigMap"))["data"]
    assert dev["ROUTER_KAFKA__SECURITY_PROTOCOL"] == "PLAINTEXT" and dev["ROUTER_KAFKA__REPLICATION_FACTOR"] == "1"
    assert "ROUTER_KAFKA__SASL_MECHANISM" not in dev
    assert prod["ROUTER_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL" and prod["ROUTER_KAFKA__REPLICATION_FACTOR"] == "3"
    topics = list(of_kind(rendered("dev"), "KafkaTopic"))
    assert topics and all(t["spec"]["replicas"] == 1 for t in topics)


def test_the_k8s_yaml_files_parse_without_kustomize() -> None:
    # The base and components are plain YAML too: a syntax slip fails here even without a renderer.
    for path in sorted((REPO / "deploy").rglob("*.yaml")):
        if "docker" in path.parts:
            continue
        assert list(yaml.safe_load_all(path.read_text())), path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_log_json_lines_for_the_log_pipeline(overlay: str) -> None:
    config = next(of_kind(rendered(overlay), "ConfigMap"))["data"]
    assert config["ROUTER_LOG_FORMAT"] == "json"
