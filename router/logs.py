"""Process logging: plain text for a terminal, JSON lines for a log pipeline (``log_format``).

Every line goes through ``PaymentContext``, so a line written while a stage processes a record
carries the record's ``uetr``, ``stage``, ``partition`` and ``offset``; the corridor's journey
lines (``hop``) use the tracker's stage names, so ``router track UETR`` and the logs tell one story.
"""

from __future__ import annotations

import logging
import sys

from router.config import Settings
from router.log_context import PaymentContext

# Renamed from logging's own attribute names to the field names log pipelines expect; the time
# is an ISO 8601 UTC timestamp, comparable with the tracker's hop times.
JSON_RENAME = {"levelname": "level", "name": "logger"}
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def json_formatter() -> logging.Formatter:
    # The msgspec encoder (msgspec is a dependency already): about half the CPU of the json module's.
    from pythonjsonlogger.msgspec import MsgspecFormatter

    return MsgspecFormatter(JSON_FIELDS, rename_fields=JSON_RENAME, timestamp="time")


def configure_logging(settings: Settings) -> None:
    """Root logging for a router process, to stderr, in ``settings.log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PaymentContext())
    if settings.log_format == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    # The logging HOWTO's "Optimization": no format here names the caller's file, line, thread or
    # process, so looking them up is work wasted on every line (a journey line per payment).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper().replace("WARN", "WARNING"))
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
