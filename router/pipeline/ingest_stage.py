"""Ingest stage: ``cips.in`` + ``corr.in`` -> ``router.accepted`` (canonical JSON), or ``router.dlq``
plus a reply to the sender on ``cips.out`` / ``corr.out``.

Stateless; runs on the transactional processor (``router.streams.processor``), so a record's
outputs and its consumed offset commit together: nothing is lost or answered twice when a worker
is killed.
"""

from __future__ import annotations

import logging

from router import headers
from router.config import Settings
from router.dlq import dead_letter
from router.ingest import Refused, ingest_message
from router.iso20022.model import Side
from router.iso20022.refusals import reply_for
from router.outcome import FORMAT_ERROR, Reject
from router.streams.processor import Out, Record, Store, StoreLogic, record_headers

log = logging.getLogger(__name__)

# Headers the ingest stage puts on accepted records, read by later stages (names: router.headers).
H_MESSAGE = headers.ISO_MESSAGE
H_BIZ_SVC = headers.ISO_BIZ_SVC
H_SOURCE = headers.ROUTER_SOURCE
H_UETR = headers.ISO_UETR
H_FORMAT = headers.ROUTER_FORMAT
H_RECEIVER_BIC = headers.RECEIVER_BIC
H_REPLY_TO = headers.REPLY_TO
FORMAT_CANONICAL = headers.FORMAT_CANONICAL
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
            dlq = dead_letter(result.reject, record)
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
