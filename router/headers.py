"""Kafka record header names the router writes and reads: one vocabulary for every stage.

Headers let a consumer route or count a record without parsing its XML.
"""

from __future__ import annotations

H_MESSAGE = "iso.message"  # the ISO message definition id, e.g. "pacs.002.001.10"
H_RECEIVER_BIC = "receiver-bic"  # on corr.out / cips.out: the bank to deliver to
# On pacs.002 status reports: the transaction status (ACSC, RJCT, PDNG...), its ISO reason code,
# and why a PDNG waits ("hold": compliance review; "liquidity": the liquidity queue).
H_STATUS = "iso.status"
H_STATUS_REASON = "iso.status.reason"
H_STATUS_CAUSE = "router.status.cause"
