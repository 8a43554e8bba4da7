"""The ACL model: each role gets what its stages use and no more, and every place that carries the
model (the local secured broker, the Strimzi users, the Kubernetes roles) agrees with router/access.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from router.access import ADMIN, ROLES, USER_PREFIX, principal, role_acls, strimzi_users
from router.pipeline.corridor_stage import CorridorLogic
from router.pipeline.screening_stage import ScreeningLogic
from router.pipeline.settlement_stage import SettlementLogic

REPO = Path(__file__).resolve().parents[2]


def test_each_stage_role_reads_its_inputs_and_writes_its_outputs() -> None:
    for role, logic in (("corridor", CorridorLogic), ("screening", ScreeningLogic), ("settlement", SettlementLogic)):
        access = ROLES[role]
        assert set(logic.inputs) <= set(access.reads), role
        changelogs = (logic.changelog,) if getattr(logic, "changelog", None) else tuple(
            getattr(logic, "changelogs", ()))
        assert set(changelogs) <= set(access.reads) & set(access.writes), role
        assert set(getattr(logic, "outputs", ())) <= set(access.writes), role
        assert "router.dlq" in access.writes  # every stage keeps what it refuses


def test_roles_are_least_privilege() -> None:
    corridor = {a.name for a in role_acls("corridor", topic_prefix="p.") if a.resource_type == "TOPIC"}
    assert "p.settlement.events" not in corridor and "p.settlement.ledger.state" not in corridor
    settlement = {a.name for a in role_acls("settlement", topic_prefix="p.") if a.resource_type == "TOPIC"}
    assert not {"p.cips.in", "p.corr.in", "p.screening.cases"} & settlement
    review = role_acls("review", topic_prefix="p.")
    assert {a.resource_type for a in review} == {"TOPIC"}  # no group, no transactions
    assert not [a for a in review if a.name == "p.settlement.requests"]
    for role in ROLES:
        acls = role_acls(role, topic_prefix="p.", app_id="app")
        assert all(a.operation in ("READ", "WRITE", "DESCRIBE") for a in acls)
        assert all(a.pattern_type == "LITERAL" or a.resource_type == "TRANSACTIONAL_ID" for a in acls)
        # transactional ids are this role's own stages' only
        assert all(a.name.split(".")[1] in ROLES[role].stages for a in acls if a.resource_type == "TRANSACTIONAL_ID")


def test_acl_lines_name_the_principal() -> None:
    line = role_acls("settlement")[0].line(principal("settlement"))
    assert line.startswith(f"User:{USER_PREFIX}settlement ") and len(line.split()) == 5


def test_local_secured_broker_has_a_user_per_role() -> None:
    script = (REPO / "deploy" / "local" / "kafka").read_text()
    users = re.search(r'^ROLES="([^"]+)"', script, re.M)
    assert users is not None
    assert set(users.group(1).split()) == {ADMIN, *ROLES}


def test_k8s_users_are_generated_from_the_role_table() -> None:
    committed = (REPO / "deploy" / "k8s" / "users.yaml").read_text()
    assert committed == strimzi_users("corridor-kafka"), (
        "deploy/k8s/users.yaml is stale: run `router acls manifest > deploy/k8s/users.yaml`")
    users = [d for d in yaml.safe_load_all(committed) if d]
    assert {u["metadata"]["name"] for u in users} == {f"{USER_PREFIX}{r}" for r in (*ROLES, ADMIN)}
    assert all(u["spec"]["authentication"]["type"] == "scram-sha-512" for u in users)


def test_k8s_roles_run_as_their_own_users_with_secrets() -> None:
    docs = [d for d in yaml.safe_load_all((REPO / "deploy" / "k8s" / "router.yaml").read_text()) if d]
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert not any("SASL" in k for k in secret["stringData"])  # no shared Kafka password
    seen = set()
    for d in docs:
        if d["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        pod = d["spec"]["template"]
        assert pod["metadata"]["labels"]["corridor-router/kafka-client"] == "true", d["metadata"]["name"]
        (container,) = pod["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        user = env["ROUTER_KAFKA__SASL_USERNAME"]["value"]
        ref = env["ROUTER_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": user, "key": "password"}
        seen.add(user.removeprefix(USER_PREFIX))
        if user == f"{USER_PREFIX}corridor":
            assert container["args"] == ["worker", "--stages", "corridor"]
        if user == f"{USER_PREFIX}screening":
            assert container["args"] == ["worker", "--stages", "screening"]
    assert seen == {"corridor", "screening", "settlement", "review", ADMIN}  # the gateway is the banks'


def test_k8s_network_policy_fences_the_brokers() -> None:
    docs = [d for d in yaml.safe_load_all((REPO / "deploy" / "k8s" / "network.yaml").read_text()) if d]
    assert all(d["kind"] == "NetworkPolicy" for d in docs)
    brokers = next(d for d in docs if d["spec"]["podSelector"]["matchLabels"].get("strimzi.io/kind") == "Kafka")
    peers = brokers["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert peers == {"corridor-router/kafka-client": "true"}
