"""Who may touch what on a secured cluster: the ACLs of each role, declared once.

Each role runs under its own principal and gets only the topics it reads or writes, the consumer
groups it joins and the transactional ids its producers use. The local secured broker
(``deploy/local/kafka``, ``KAFKA_SECURE=1``) applies these through ``router acls``, and the
Strimzi ``KafkaUser`` resources in ``deploy/k8s/users.yaml`` are generated from the same table
(tests/unit/test_access.py keeps both in step with the stages' declared topics).
"""

from __future__ import annotations

from dataclasses import dataclass

from router.topics import topic_name


@dataclass(frozen=True, slots=True)
class RoleAccess:
    role: str
    what: str
    reads: tuple[str, ...] = ()  # logical topics read (READ, DESCRIBE)
    writes: tuple[str, ...] = ()  # logical topics written (WRITE, DESCRIBE)
    # A stage's consumer group and transactional ids are ``<app_id>.<stage>`` and
    # ``<app_id>.<stage>.<partition>`` (router/streams/processor.py).
    stages: tuple[str, ...] = ()
    # Consumer groups named ``<app_id>-<suffix>`` (the simulated banks' listeners).
    group_suffixes: tuple[str, ...] = ()


ROLES: dict[str, RoleAccess] = {r.role: r for r in (
    RoleAccess(
        "corridor", "`router worker --stages corridor`: intake and the per-payment orchestrator",
        reads=("cips.in", "corr.in", "screening.results", "screening.decisions", "settlement.outcomes",
               "conditions.events", "corridor.state", "fx.rates", "payments.status"),
        writes=("cips.out", "corr.out", "screening.requests", "settlement.requests", "payments.status",
                "corridor.state", "router.dlq"),
        stages=("corridor",)),
    RoleAccess(
        "screening", "`router worker --stages screening`: sanctions and compliance rules",
        reads=("screening.requests", "screening.velocity"),
        writes=("screening.results", "screening.cases", "screening.velocity", "screening.audit", "router.dlq"),
        stages=("screening",)),
    RoleAccess(
        "settlement", "`router settle-worker`: the ledger shard (PvP)",
        reads=("settlement.requests", "settlement.ledger.state"),
        writes=("settlement.events", "settlement.outcomes", "settlement.ledger.state", "router.dlq"),
        stages=("settlement",)),
    RoleAccess(
        "review", "`router review-server`: the analysts' page",
        reads=("screening.cases", "screening.decisions"),
        writes=("screening.decisions", "screening.cases", "screening.audit")),
    RoleAccess(
        # Apart from `review`: an analysts' page must not be able to write ledger commands.
        "liquidity", "`router review-server` with `web.liquidity_operators`: the analysts' page and the "
        "operators' liquidity view (reads the ledger, funds accounts, changes net debit caps)",
        reads=("screening.cases", "screening.decisions", "settlement.events", "settlement.ledger.state"),
        writes=("screening.decisions", "screening.cases", "screening.audit", "settlement.requests")),
    RoleAccess(
        "gateway", "the banks' side: CIPS / e-CNY and correspondent gateways, the FX feed, the parties "
        "that release conditional payments",
        reads=("cips.out", "corr.out", "payments.status"),
        writes=("cips.in", "corr.in", "fx.rates", "conditions.events"),
        group_suffixes=("cips-sim", "corr-sim")),
)}
# `admin` is a super user (topics, ACLs, `router ledger check`, fundings); it has no ACLs here.
ADMIN = "admin"
# SCRAM user names: ``router-<role>`` (the local secured broker and the Strimzi KafkaUsers alike).
USER_PREFIX = "router-"


def principal(role: str, user_prefix: str = USER_PREFIX) -> str:
    return f"User:{user_prefix}{role}"


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    """One ALLOW rule, in the vocabulary of Kafka's Admin API (AclBinding)."""

    resource_type: str  # TOPIC | GROUP | TRANSACTIONAL_ID
    pattern_type: str  # LITERAL | PREFIXED
    name: str
    operation: str  # READ | WRITE | DESCRIBE

    def line(self, principal: str) -> str:
        """``principal operation resource_type pattern_type name``, read by deploy/local/KafkaAcls.java."""
        return f"{principal} {self.operation} {self.resource_type} {self.pattern_type} {self.name}"


def role_acls(role: str, *, topic_prefix: str = "", app_id: str = "corridor-router") -> tuple[Acl, ...]:
    """Every rule ``role`` needs under this deployment's topic prefix and app id, and no more."""
    access = ROLES[role]
    out: set[Acl] = set()
    for t in access.reads:
        out |= {Acl("TOPIC", "LITERAL", topic_name(t, topic_prefix), op) for op in ("READ", "DESCRIBE")}
    for t in access.writes:
        out |= {Acl("TOPIC", "LITERAL", topic_name(t, topic_prefix), op) for op in ("WRITE", "DESCRIBE")}
    for stage in access.stages:
        out.add(Acl("GROUP", "LITERAL", f"{app_id}.{stage}", "READ"))
        # One transactional id per partition of the stage: a prefix, not a wildcard over the app.
        out |= {Acl("TRANSACTIONAL_ID", "PREFIXED", f"{app_id}.{stage}.", op) for op in ("WRITE", "DESCRIBE")}
    for suffix in access.group_suffixes:
        out.add(Acl("GROUP", "LITERAL", f"{app_id}-{suffix}", "READ"))
    return tuple(sorted(out))


def roles_for_stages(stages: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r.role for r in ROLES.values() if set(r.stages) & set(stages))


def strimzi_users(cluster: str, *, app_id: str = "corridor-router", user_prefix: str = USER_PREFIX) -> str:
    """Strimzi ``KafkaUser`` resources, one per role, with the role's ACLs: deploy/k8s/users.yaml."""
    docs = ["# Generated by `router acls manifest` from router/access.py. Do not edit by hand.\n"
            "# Strimzi's User Operator writes each user's SCRAM-SHA-512 password to a Secret of the\n"
            "# same name; the role's Deployment reads it from there (deploy/k8s/router.yaml).\n"]
    types = {"TOPIC": "topic", "GROUP": "group", "TRANSACTIONAL_ID": "transactionalId"}
    for role, access in ROLES.items():
        lines = ["---", "apiVersion: kafka.strimzi.io/v1beta2", "kind: KafkaUser", "metadata:",
                 f"  name: {user_prefix}{role}", f"  labels: {{strimzi.io/cluster: {cluster}}}",
                 f"  annotations: {{corridor-router/role: {access.what!r}}}",
                 "spec:", "  authentication: {type: scram-sha-512}", "  authorization:", "    type: simple",
                 "    acls:"]
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for acl in role_acls(role, app_id=app_id):
            grouped.setdefault((acl.resource_type, acl.name, acl.pattern_type), []).append(acl.operation)
        for (rtype, name, pattern), ops in grouped.items():
            lines.append(f"      - resource: {{type: {types[rtype]}, name: {name}, patternType: {pattern.lower()}}}")
            lines.append(f"        operations: [{', '.join(op.capitalize() for op in sorted(ops))}]")
        docs.append("\n".join(lines) + "\n")
    # The operator's user: creates topics (the Job in router.yaml), audits the ledger, funds accounts.
    docs.append("\n".join([
        "---", "apiVersion: kafka.strimzi.io/v1beta2", "kind: KafkaUser", "metadata:",
        f"  name: {user_prefix}{ADMIN}", f"  labels: {{strimzi.io/cluster: {cluster}}}",
        "  annotations: {corridor-router/role: 'operator: router topics create, router ledger check, fundings'}",
        "spec:", "  authentication: {type: scram-sha-512}", "  authorization:", "    type: simple", "    acls:",
        "      - resource: {type: topic, name: '*', patternType: literal}",
        "        operations: [Create, Describe, DescribeConfigs, Read, Write]",
        "      - resource: {type: cluster}",
        "        operations: [Describe]",
    ]) + "\n")
    return "".join(docs)
