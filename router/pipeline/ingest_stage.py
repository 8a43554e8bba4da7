"""Ingest stage: ``cips.in`` + ``corr.in`` -> ``router.accepted`` (canonical JSON), or ``router.dlq``
plus a reply to the sender on ``cips.out`` / ``corr.out``.

Stateless; runs on the transactional processor (``router.streams.processor``), so a record's
outputs and its consumed offset commit together: nothing is lost or answered twice when a worker
is killed.
"""

from __future__ import annotations

import logging

from router.config import Settings
from router.dlq import dlq_headers
from router.ingest import Refused, ingest_message
from router.iso20022.model import Side
from router.iso20022.refusals import reply_for
from router.outcome import FORMAT_ERROR, Reject
from router.streams.processor import Out, Record, Store, StoreLogic, record_headers

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
SIDE_OF: dict[str, Side] = {"cips.in": "cips", "corr.in": "corr"}


class IngestLogic(StoreLogic):
    name: str = "ingest"
    inputs: tuple[str, ...] = ("cips.in", "corr.in")
    changelog: str | None = None

    def __init__(self, settings: Settings) -> None:
        self.max_bytes = settings.ingest.max_message_bytes
        self.router_bic = settings.router_bic

    def process(self, store: Store, topic: str, record: Record) -> list[Out]:
        raw = record.value or b""
        original = record_headers(record)
        side = SIDE_OF[topic]
        try:
            result = ingest_message(raw, side=side, max_bytes=self.max_bytes, router_bic=self.router_bic)
        except Exception as exc:  # a bug must not stop the worker: keep the input, say why
            log.exception("ingest failed on %s[%s]@%s", record.topic, record.partition, record.offset)
            rej = Reject(FORMAT_ERROR, f"internal error: {type(exc).__name__}: {exc}", "ingest")
            result = Refused(rej, reply_for(rej, "cips" if side == "cips" else "cbpr", router_bic=self.router_bic))
        if isinstance(result, Refused):
            dlq = Out("router.dlq", record.key, raw, tuple(dlq_headers(
                result.reject, topic=record.topic, partition=record.partition, offset=record.offset,
                original=original)))
            reply = result.reply
            reply_headers = [(H_MESSAGE, reply.message_id.encode()),
                             (H_REPLY_TO, f"{record.topic}[{record.partition}]@{record.offset}".encode())]
            if reply.receiver is not None and reply.receiver.bic:
                reply_headers.append((H_RECEIVER_BIC, reply.receiver.bic.encode()))
            # cips.out / corr.out are keyed by UETR; unreadable input keeps its original key.
            reply_key = result.uetr.encode() if result.uetr else record.key
            return [dlq, Out(f"{side}.out", reply_key, reply.value, tuple(reply_headers))]
        norm = result.value
        ing = norm.ingested
        headers = [*original, (H_MESSAGE, ing.message_id.encode()), (H_SOURCE, side.encode()),
                   (H_FORMAT, FORMAT_CANONICAL)]
        if ing.biz_svc:
            headers.append((H_BIZ_SVC, ing.biz_svc.encode()))
        if ing.uetr:
            headers.append((H_UETR, ing.uetr.encode()))
        key = ing.uetr.encode() if ing.uetr else record.key
        return [Out("router.accepted", key, norm.value, tuple(headers))]
