"""aiokafka client options and topic administration, derived from the one settings object."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import RequestTimedOutError, TopicAlreadyExistsError, for_code

from router.config import KafkaSettings
from router.topics import TOPICS, TopicSpec


def ssl_context(k: KafkaSettings) -> ssl.SSLContext | None:
    if k.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    ctx = ssl.create_default_context(cafile=str(k.ssl_cafile) if k.ssl_cafile else None)
    if k.ssl_certfile:
        ctx.load_cert_chain(str(k.ssl_certfile), str(k.ssl_keyfile) if k.ssl_keyfile else None)
    return ctx


def client_options(k: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments shared by every aiokafka producer, consumer and admin client."""
    opts: dict[str, Any] = {"bootstrap_servers": k.hosts, "security_protocol": k.security_protocol}
    ctx = ssl_context(k)
    if ctx is not None:
        opts["ssl_context"] = ctx
    if k.sasl_mechanism:
        opts["sasl_mechanism"] = k.sasl_mechanism
        opts["sasl_plain_username"] = k.sasl_username
        opts["sasl_plain_password"] = k.sasl_password.get_secret_value() if k.sasl_password else None
    return opts


async def create_topics(k: KafkaSettings, specs: tuple[TopicSpec, ...] = TOPICS) -> dict[str, str]:
    """Create the declared topics that do not exist yet. Returns name -> "created" | "exists"."""
    admin = AIOKafkaAdminClient(**client_options(k))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        result: dict[str, str] = {}
        wanted = []
        for spec in specs:
            name = f"{k.topic_prefix}{spec.name}"
            if name in existing:
                result[name] = "exists"
                continue
            wanted.append(NewTopic(name, spec.partitions, k.replication_factor, topic_configs=spec.kafka_config()))
        for topic in wanted:
            result[topic.name] = await _create_one(admin, topic)
        return result
    finally:
        await admin.close()


async def _create_one(admin: AIOKafkaAdminClient, topic: NewTopic, attempts: int = 5) -> str:
    """Create one topic. The admin client reports a failed creation in its response, not by
    raising: read the error code, and retry the ones a busy broker gives (timeouts)."""
    for attempt in range(attempts):
        try:
            response = await admin.create_topics([topic])
        except TopicAlreadyExistsError:
            return "exists"  # another process won the race; that is fine
        code = next((err[1] for err in response.topic_errors if err[0] == topic.name), 0)
        if code == 0:
            return "created"
        if code == TopicAlreadyExistsError.errno:
            return "exists"
        error = for_code(code)
        if (not error.retriable and code != RequestTimedOutError.errno) or attempt == attempts - 1:
            raise error(f"creating topic {topic.name}")
        await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


async def topic_names(k: KafkaSettings) -> list[str]:
    admin = AIOKafkaAdminClient(**client_options(k))
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


async def delete_topics_with_prefix(k: KafkaSettings, prefixes: tuple[str, ...]) -> list[str]:
    """Delete every topic whose name starts with one of ``prefixes`` (test and demo clean-up)."""
    if not any(prefixes):
        raise ValueError("refusing to delete topics without a prefix")
    admin = AIOKafkaAdminClient(**client_options(k))
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if any(p and t.startswith(p) for p in prefixes)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()
