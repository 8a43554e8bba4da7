"""Hostile traffic for the running corridor: a seeded mutator over the repo's example messages.

``hostile_records(n, seed, reuse=...)`` returns ``n`` records for ``cips.in`` / ``corr.in``, each a
bad input of one kind (XML attacks, broken encodings, bad amounts, unknown parties, duplicates,
status reports and cancellations for payments that do not exist, empty records, null keys).
Every record carries a ``hostile-id`` header; the DLQ keeps the original headers, so the demo can
check that each bad input was kept exactly once, with its original bytes, and why.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from router.iso20022.build import build_message, build_payment
from router.iso20022.examples import cancellation, cbpr_pacs008, cips_pacs008, status_report

HOSTILE_ID = "hostile-id"
PACS008_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"


@dataclass(frozen=True, slots=True)
class Hostile:
    id: str
    kind: str
    topic: str  # logical: cips.in or corr.in
    key: bytes | None
    value: bytes | None
    # The good payment whose UETR (and MsgId) this record reuses, if any: it must be sent later.
    reuses: str | None = None


def _uetr(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _good(rng: random.Random, side: str, **kw: object) -> tuple[str, bytes]:
    uetr = _uetr(rng)
    if side == "cips":
        p = cips_pacs008(uetr=uetr, end_to_end_id=f"E2E-H{rng.getrandbits(40):x}", **kw)  # type: ignore[arg-type]
        return uetr, build_payment(p.model_copy(update={"msg_id": f"H{rng.getrandbits(48):x}"}), "cips")
    p = cbpr_pacs008(uetr=uetr, **kw)  # type: ignore[arg-type]
    return uetr, build_payment(p.model_copy(update={"msg_id": f"H{rng.getrandbits(48):x}"}), "cbpr")


def _amount(raw: bytes, text: str) -> bytes:
    return re.sub(rb'(<IntrBkSttlmAmt Ccy="[A-Z]{3}">)[^<]*(<)', rb"\g<1>" + text.encode() + rb"\g<2>", raw, count=1)


Maker = Callable[[random.Random, str], tuple[str | None, bytes | None]]


def _xxe(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    return _uetr(rng), (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        f'<Document xmlns="{PACS008_NS}">&x;</Document>').encode()


def _laughs(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    ents = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return _uetr(rng), (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "ha">{ents}]>'
                        f'<Document xmlns="{PACS008_NS}">&l9;</Document>').encode()


def _oversize(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    uetr, raw = _good(rng, side)
    pad = b"<!--" + b"x" * (300 * 1024) + b"-->"  # over ingest.max_message_bytes (256 KB)
    return uetr, raw.replace(b"?>", b"?>" + pad, 1)


def _truncated(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    uetr, raw = _good(rng, side)
    return uetr, raw[: rng.randrange(40, len(raw) - 40)]


def _wrong_encoding(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    uetr, raw = _good(rng, side)
    if rng.random() < 0.5:
        return uetr, raw.decode().replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16")
    return uetr, raw.replace(b"<Nm>", b"<Nm>\xe4\xff", 1)  # declared UTF-8, not UTF-8


def _wrong_namespace(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    uetr, raw = _good(rng, side)
    return uetr, raw.replace(b"pacs.008.001.08", b"pacs.008.001.99")


def _bad_amount(text: str) -> Maker:
    def make(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
        uetr, raw = _good(rng, side)
        return uetr, _amount(raw, text)
    return make


def _unknown_currency(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    uetr, raw = _good(rng, side)
    return uetr, re.sub(rb'Ccy="[A-Z]{3}"', rng.choice([b'Ccy="XQZ"', b'Ccy="ABC"', b'Ccy="XAU"']), raw)


def _unknown_bic(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    if side == "cips":
        uetr, raw = _good(rng, side, creditor_agent_bic="ZZZZZZ2ZXXX")
    else:
        uetr, raw = _good(rng, side, creditor_agent_bic="ZZZZCNBJ")
    return uetr, raw


def _status_unknown(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    r = status_report(side, "ACSC")
    uetr = _uetr(rng)
    ref = r.original.model_copy(update={"uetr": uetr})
    return uetr, build_message(r.model_copy(update={"original": ref}), "cips" if side == "cips" else "cbpr")


def _cancel_unknown(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    r = cancellation(side)
    uetr = _uetr(rng)
    ref = r.original.model_copy(update={"uetr": uetr})
    return uetr, build_message(r.model_copy(update={"original": ref}), "cips" if side == "cips" else "cbpr")


def _empty(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    return _uetr(rng), rng.choice([b"", None])


def _null_key(rng: random.Random, side: str) -> tuple[str | None, bytes | None]:
    return None, rng.choice([b"MT103 {1:F01BANKBEBBAXXX0000000000}", b"\x00\xff" * 64, b"{}", b"<Document/>"])


KINDS: dict[str, Maker] = {
    "xxe": _xxe,
    "billion_laughs": _laughs,
    "oversize": _oversize,
    "truncated": _truncated,
    "wrong_encoding": _wrong_encoding,
    "wrong_namespace": _wrong_namespace,
    "negative_amount": _bad_amount("-100.00"),
    "too_many_decimals": _bad_amount("100.123456"),
    "absurd_amount": _bad_amount("99999999999999999.99"),
    "unknown_currency": _unknown_currency,
    "unknown_bic": _unknown_bic,
    "pacs002_unknown_payment": _status_unknown,
    "empty_record": _empty,
    "null_key": _null_key,
}
# Kinds that need a good payment to collide with (see ``reusing``) and the storm.
REUSE_KINDS = ("reused_uetr", "duplicate_msgid")
STORM = "camt056_storm"
ALL_KINDS = (*KINDS, *REUSE_KINDS, STORM)


def hostile_records(n: int, seed: int) -> list[Hostile]:
    """``n`` self-contained bad inputs, spread over every kind (reuse kinds excluded: see ``reusing``)."""
    rng = random.Random(seed)
    out: list[Hostile] = []
    kinds = [*KINDS, STORM]
    while len(out) < n:
        kind = kinds[len(out) % len(kinds)] if len(out) < len(kinds) else rng.choice(kinds)
        if kind == STORM and rng.random() < 0.7:  # a storm is many records: keep it to ~1/4 of them
            kind = rng.choice(kinds[:-1])
        side = rng.choice(("cips", "corr"))
        if kind == STORM:
            # One unknown payment, many cancellation requests for it at once.
            key, value = _cancel_unknown(rng, side)
            for _ in range(min(rng.randint(5, 20), n - len(out))):
                out.append(Hostile(f"h{seed}-{len(out)}", kind, f"{side}.in", key.encode() if key else None, value))
            continue
        key, value = KINDS[kind](rng, side)
        out.append(Hostile(f"h{seed}-{len(out)}", kind, f"{side}.in", key.encode() if key else None, value))
    return out


def reusing(good: Sequence[tuple[str, bytes, str]], n: int, seed: int) -> list[Hostile]:
    """Bad inputs that collide with good payments already sent (``(uetr, raw, topic)``): another
    message under a used UETR, and the same MsgId and UETR with another amount."""
    rng = random.Random(seed)
    out: list[Hostile] = []
    for i in range(min(n, len(good))):
        uetr, raw, topic = good[i]
        kind = REUSE_KINDS[i % 2]
        if kind == "reused_uetr":
            value = re.sub(rb"<MsgId>[^<]*</MsgId>", f"<MsgId>R{rng.getrandbits(40):x}</MsgId>".encode(), raw)
        else:
            m = re.search(rb'<IntrBkSttlmAmt Ccy="[A-Z]{3}">([^<]*)<', raw)
            amount = Decimal(m.group(1).decode()) if m else Decimal(1)
            value = _amount(raw, str(amount + Decimal("1")))
        out.append(Hostile(f"r{seed}-{i}", kind, topic, uetr.encode(), value, reuses=uetr))
    return out
