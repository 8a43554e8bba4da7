"""Ingest stage: ``cips.in`` + ``corr.in`` -> ``router.accepted`` (canonical JSON), or ``router.dlq``
plus a reply to the sender on ``cips.out`` / ``corr.out``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from router.dlq import dlq_headers
from router.ingest import Refused, ingest_message
from router.iso20022.model import Side
from router.iso20022.replies import reply_for
from router.outcome import FORMAT_ERROR, Reject

if TYPE_CHECKING:
    from router.app import Wiring

log = logging.getLogger(__name__)

# Headers the ingest stage puts on accepted records, read by later stages.
H_MESSAGE = "iso.message"
H_BIZ_SVC = "iso.bizsvc"
H_SOURCE = "router.source"
H_UETR = "iso.uetr"
H_FORMAT = "router.format"  # "canonical-json": the value is router.iso20022.model.dump_canonical output
H_RECEIVER_BIC = "receiver-bic"  # on corr.out records: the correspondent to deliver to
H_REPLY_TO = "router.reply.to"  # on replies: the rejected record's topic[partition]@offset
FORMAT_CANONICAL = b"canonical-json"


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
    replies = {"cips": w.topic("cips.out"), "corr": w.topic("corr.out")}
    source_names: dict[str, Side] = {
        t.get_topic_name(): name for t, name in zip(sources, ("cips", "corr"), strict=True)  # type: ignore[misc]
    }
    max_bytes = s.ingest.max_message_bytes

    @w.app.agent(w.app.topic(*[t.get_topic_name() for t in sources], key_serializer="raw",
                              value_serializer="raw"), name="ingest")
    async def ingest_agent(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            raw: bytes = msg.value if isinstance(msg.value, bytes) else b""
            original = _header_items(msg.headers)
            side: Side = source_names.get(msg.topic, "corr")
            try:
                result = ingest_message(raw, side=side, max_bytes=max_bytes, router_bic=s.router_bic)
            except Exception as exc:  # a bug must not stop the worker: keep the input, say why
                log.exception("ingest failed on %s[%s]@%s", msg.topic, msg.partition, msg.offset)
                rej = Reject(FORMAT_ERROR, f"internal error: {type(exc).__name__}: {exc}", "ingest")
                result = Refused(rej, reply_for(rej, "cips" if side == "cips" else "cbpr", router_bic=s.router_bic))
            if isinstance(result, Refused):
                await dlq.send(
                    key=msg.key,
                    value=raw,
                    headers=dlq_headers(
                        result.reject, topic=msg.topic, partition=msg.partition, offset=msg.offset,
                        original=original,
                    ),
                )
                reply = result.reply
                reply_headers = [
                    (H_MESSAGE, reply.message_id.encode()),
                    (H_REPLY_TO, f"{msg.topic}[{msg.partition}]@{msg.offset}".encode()),
                ]
                if reply.receiver is not None and reply.receiver.bic:
                    reply_headers.append((H_RECEIVER_BIC, reply.receiver.bic.encode()))
                # cips.out / corr.out are keyed by UETR; unreadable input keeps its original key.
                reply_key = result.uetr.encode() if result.uetr else msg.key
                await replies[side].send(key=reply_key, value=reply.value, headers=reply_headers)
                continue
            norm = result.value
            ing = norm.ingested
            headers = [
                *original,
                (H_MESSAGE, ing.message_id.encode()),
                (H_SOURCE, side.encode()),
                (H_FORMAT, FORMAT_CANONICAL),
            ]
            if ing.biz_svc:
                headers.append((H_BIZ_SVC, ing.biz_svc.encode()))
            if ing.uetr:
                headers.append((H_UETR, ing.uetr.encode()))
            key = ing.uetr.encode() if ing.uetr else msg.key
            await accepted.send(key=key, value=norm.value, headers=headers)
