"""Start-up check on a secured cluster: can this process's principal do what its role needs?

Without it, wrong credentials surface as aiokafka's "Unable to bootstrap" and a topic outside the
principal's ACL as a topic "with 0 partitions". ``preflight`` connects once and names the cause:
the credentials, the CA, or each topic, group and transactional id the principal may not use.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, SaslAuthenticationFailed

from router.access import ROLES
from router.config import KafkaSettings
from router.kafka_clients import client_options
from router.topics import topic_name

TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53


class AccessDenied(Exception):
    """The cluster refuses this process: bad credentials, an untrusted certificate, or ACLs."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What a process is about to use: physical topic names, groups, transactional ids."""

    topics: tuple[str, ...]
    groups: tuple[str, ...] = ()
    transactional_ids: tuple[str, ...] = ()


def needs_of(roles: tuple[str, ...], k: KafkaSettings, app_id: str) -> Needs:
    topics: set[str] = set()
    groups: list[str] = []
    txns: list[str] = []
    for role in roles:
        access = ROLES[role]
        topics |= {topic_name(t, k.topic_prefix) for t in (*access.reads, *access.writes)}
        groups += [f"{app_id}.{stage}" for stage in access.stages]
        txns += [f"{app_id}.{stage}.0" for stage in access.stages]
    return Needs(tuple(sorted(topics)), tuple(groups), tuple(txns))


def _who(k: KafkaSettings) -> str:
    if k.sasl_mechanism:
        return f"user {k.sasl_username!r} ({k.sasl_mechanism})"
    return f"{k.security_protocol} client"


async def check_credentials(k: KafkaSettings) -> None:
    """One connection to the first bootstrap server, to tell a refusal from an outage."""
    host, _, port = k.hosts[0].rpartition(":")
    opts = {key: v for key, v in client_options(k).items() if key != "bootstrap_servers"}
    try:
        conn = await create_conn(host, int(port), request_timeout_ms=15000, **opts)
    except SaslAuthenticationFailed as exc:
        raise AccessDenied(f"Kafka at {k.hosts[0]} refused {_who(k)}: wrong user name or password "
                           f"(ROUTER_KAFKA__SASL_USERNAME / ROUTER_KAFKA__SASL_PASSWORD): {exc}") from exc
    except ssl.SSLError as exc:
        raise AccessDenied(f"TLS to Kafka at {k.hosts[0]} failed: {exc.reason or exc} "
                           "(is ROUTER_KAFKA__SSL_CAFILE the CA that signed the broker's certificate?)") from exc
    except (OSError, KafkaError):
        return  # not a refusal: the client's own retries and errors take it from here
    conn.close()


async def check_access(k: KafkaSettings, needs: Needs, what: str) -> None:
    """Raise ``AccessDenied`` naming every topic, group and transactional id refused to this principal."""
    await check_credentials(k)
    if not k.sasl_mechanism and k.security_protocol not in ("SSL", "SASL_SSL"):
        return  # an open cluster has no ACLs to check
    admin = AIOKafkaAdminClient(**client_options(k))
    await admin.start()
    refused: list[str] = []
    try:
        for t in await admin.describe_topics(list(needs.topics)):
            if t["error_code"] == TOPIC_AUTHORIZATION_FAILED:
                refused.append(f"topic {t['topic']}")
        for ids, kind, code in ((needs.groups, 0, GROUP_AUTHORIZATION_FAILED),
                                (needs.transactional_ids, 1, TRANSACTIONAL_ID_AUTHORIZATION_FAILED)):
            for name in ids:
                try:
                    await admin.find_coordinator(name, kind)
                except KafkaError as exc:
                    if getattr(exc, "errno", None) == code:
                        refused.append(f"{'group' if kind == 0 else 'transactional id'} {name}")
    finally:
        await admin.close()
    if refused:
        raise AccessDenied(f"{what}: Kafka's ACLs refuse {_who(k)} access to {', '.join(refused)}. "
                           "Run this role under its own user, or grant its rules (`router acls lines`).")


