"""Intake: what the corridor stage does with a raw record from ``cips.in`` or ``corr.in``.

Parse, identify, validate against the side's profile, normalise (``router.ingest``), all in the
corridor stage's own transaction: the canonical message goes straight to the payment's
lifecycle, with no intermediate topic and no JSON round trip. A refused message gets its DLQ
record (original bytes) and the reply to its sender (admi.002, or pacs.002 RJCT). Both are
returned as records to send, so they commit with the consumed offset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from router import headers
from router.dlq import dead_letter
from router.ingest import Refused, ingest_message
from router.iso20022.model import CanonicalMessage, Side
from router.iso20022.refusals import reply_for
from router.outcome import FORMAT_ERROR, Reject
from router.streams.processor import Out, Record

log = logging.getLogger(__name__)
SIDE_OF: dict[str, Side] = {"cips.in": "cips", "corr.in": "corr"}


@dataclass(frozen=True, slots=True)
class Accepted:
    message: CanonicalMessage
    side: Side
    uetr: str | None  # the payment the message is about (its own UETR or the original's)


def receive(record: Record, topic: str, *, max_bytes: int, router_bic: str) -> Accepted | list[Out]:
    """A message to route, or the records that refuse it (DLQ and the sender's reply)."""
    raw = record.value or b""
    side = SIDE_OF[topic]
    try:
        result = ingest_message(raw, side=side, max_bytes=max_bytes, router_bic=router_bic)
    except Exception as exc:  # a bug must not stop the worker: keep the input, say why
        log.exception("intake failed on %s[%s]@%s", record.topic, record.partition, record.offset)
        rej = Reject(FORMAT_ERROR, f"internal error: {type(exc).__name__}: {exc}", "ingest")
        result = Refused(rej, reply_for(rej, "cips" if side == "cips" else "cbpr", router_bic=router_bic))
    if isinstance(result, Refused):
        reply = result.reply
        reply_headers = [(headers.ISO_MESSAGE, reply.message_id.encode()),
                         (headers.REPLY_TO, f"{record.topic}[{record.partition}]@{record.offset}".encode())]
        if reply.receiver is not None and reply.receiver.bic:
            reply_headers.append((headers.RECEIVER_BIC, reply.receiver.bic.encode()))
        # cips.out / corr.out are keyed by UETR; unreadable input keeps its original key.
        reply_key = result.uetr.encode() if result.uetr else record.key
        return [dead_letter(result.reject, record), Out(f"{side}.out", reply_key, reply.value, tuple(reply_headers))]
    norm = result.value
    return Accepted(norm.message, side, norm.ingested.uetr)
