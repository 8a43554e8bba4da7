"""Ingest stage: ``cips.in`` + ``corr.in`` -> ``router.accepted`` or ``router.dlq``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from router.dlq import dlq_headers
from router.ingest import ingest
from router.outcome import FORMAT_ERROR, Reject

if TYPE_CHECKING:
    from router.app import Wiring

log = logging.getLogger(__name__)

# Headers the ingest stage puts on accepted records, read by later stages.
H_MESSAGE = "iso.message"
H_BIZ_SVC = "iso.bizsvc"
H_SOURCE = "router.source"
H_UETR = "iso.uetr"


def _header_items(headers: Any) -> list[tuple[str, bytes]]:
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(k), bytes(v or b"")) for k, v in items]


def register(w: Wiring) -> None:
    s = w.settings
    sources = w.topic("cips.in"), w.topic("corr.in")
    accepted = w.topic("router.accepted")
    dlq = w.topic("router.dlq")
    source_names = {t.get_topic_name(): name for t, name in zip(sources, ("cips", "corr"), strict=True)}
    max_bytes = s.ingest.max_message_bytes

    @w.app.agent(w.app.topic(*[t.get_topic_name() for t in sources], key_serializer="raw",
                              value_serializer="raw"), name="ingest")
    async def ingest_agent(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            raw: bytes = msg.value if isinstance(msg.value, bytes) else b""
            original = _header_items(msg.headers)
            try:
                result = ingest(raw, max_bytes=max_bytes)
            except Exception as exc:  # a bug must not stop the worker: keep the input, say why
                log.exception("ingest failed on %s[%s]@%s", msg.topic, msg.partition, msg.offset)
                result = Reject(FORMAT_ERROR, f"internal error: {type(exc).__name__}: {exc}", "ingest")
            if isinstance(result, Reject):
                await dlq.send(
                    key=msg.key,
                    value=raw,
                    headers=dlq_headers(
                        result, topic=msg.topic, partition=msg.partition, offset=msg.offset, original=original
                    ),
                )
                continue
            ing = result.value
            headers = [
                *original,
                (H_MESSAGE, ing.message_id.encode()),
                (H_SOURCE, source_names.get(msg.topic, msg.topic).encode()),
            ]
            if ing.biz_svc:
                headers.append((H_BIZ_SVC, ing.biz_svc.encode()))
            if ing.uetr:
                headers.append((H_UETR, ing.uetr.encode()))
            key = ing.uetr.encode() if ing.uetr else msg.key
            await accepted.send(key=key, value=raw, headers=headers)
