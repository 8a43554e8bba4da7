"""Which payment a log line is about: the record a stage is processing, set by the processor loop.

``CURRENT`` holds ``(stage, partition, record)`` for the running asyncio task (``record`` is
``None`` during a stage's timer work). ``PaymentContext`` is a logging filter that copies it onto
every log record as ``stage``, ``partition``, ``offset``, ``topic`` and ``uetr``, so a JSON log
line about a payment carries them without each call site passing them. The UETR is worked out
only when a line is actually written: setting the context costs one ``ContextVar.set``.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

CURRENT: ContextVar[tuple[str, int, Any] | None] = ContextVar("router_record", default=None)
UETR_HEADER = "uetr"  # on records keyed by something else (screening requests: by debtor)


def looks_like_uetr(text: str) -> bool:
    """A UETR is a UUID (ISO 20022: 36 characters, 8-4-4-4-12)."""
    return len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-"


def uetr_of(key: bytes | None, headers: Any) -> str | None:
    """The payment a consumed record is about: its ``uetr`` header, else its key if that is a UETR."""
    for name, value in headers or ():
        if name == UETR_HEADER and value:
            return bytes(value).decode("ascii", "replace")
    text = (key or b"").decode("utf-8", "replace")
    return text if looks_like_uetr(text) else None


class PaymentContext(logging.Filter):
    """Adds the processor's current record to each log record; values passed with ``extra=`` win."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = CURRENT.get()
        if current is None:
            return True
        stage, partition, consumed = current
        fields = record.__dict__
        fields.setdefault("stage", stage)
        fields.setdefault("partition", partition)
        if consumed is not None:
            fields.setdefault("topic", consumed.topic)
            fields.setdefault("offset", consumed.offset)
            if "uetr" not in fields:
                uetr = uetr_of(consumed.key, consumed.headers)
                if uetr is not None:
                    fields["uetr"] = uetr
        return True
