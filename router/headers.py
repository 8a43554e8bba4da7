"""Record header names the router writes and reads, defined once.

Stages, simulators and tests use these names; the DLQ's own reason headers are in ``router.dlq``.
"""

from __future__ import annotations

# On accepted records and on everything the router sends: the ISO message definition id
# (lets a receiver skip what it does not read without parsing it).
ISO_MESSAGE = "iso.message"
# On corr.out (and cips.out) records: the institution to deliver to.
RECEIVER_BIC = "receiver-bic"
# On replies to refused input: the refused record's topic[partition]@offset.
REPLY_TO = "router.reply.to"
# On pacs.002 status reports the router sends: the transaction status (ACSC, RJCT, PDNG...), its ISO
# reason code, and why a PDNG waits ("hold": compliance review; "liquidity": the liquidity queue).
# The benchmark's sink and simple receivers act on them without parsing XML.
ISO_STATUS = "iso.status"
ISO_STATUS_REASON = "iso.status.reason"
ROUTER_STATUS_CAUSE = "router.status.cause"
