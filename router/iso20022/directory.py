"""The participant directory: CIPS participant id <-> BIC, e-CNY operating institutions.

Loaded from ``router/data/participants.json`` (or a file given by the caller). BICs compare in
their 11-character form, so ``ICBKCNBJ`` and ``ICBKCNBJXXX`` are the same institution.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "participants.json"
CIPS_ID = re.compile(r"^C[0-9]{10}$")
WALLET_ID = re.compile(r"^[0-9]{16}$")


def bic11(bic: str) -> str:
    b = bic.strip().upper()
    return b + "XXX" if len(b) == 8 else b


@dataclass(frozen=True, slots=True)
class Participant:
    bic: str
    name: str
    town: str
    country: str
    cips_id: str | None = None
    name_zh: str | None = None
    ecny_operator: bool = False
    wallet_prefix: str | None = None
    # Settlement currencies of a correspondent, the first being the one it is paid in.
    currencies: tuple[str, ...] = ()


class Directory:
    """Lookups over the loaded participants; immutable after construction."""

    def __init__(self, clearing_system: str, participants: tuple[Participant, ...],
                 correspondents: tuple[Participant, ...]) -> None:
        self.clearing_system = clearing_system
        self.participants = participants
        self.correspondents = correspondents
        self._by_cips = {p.cips_id: p for p in participants if p.cips_id}
        self._by_bic = {bic11(p.bic): p for p in (*participants, *correspondents)}
        self._by_prefix = {p.wallet_prefix: p for p in participants if p.wallet_prefix}

    def by_cips(self, cips_id: str) -> Participant | None:
        return self._by_cips.get(cips_id)

    def by_bic(self, bic: str) -> Participant | None:
        return self._by_bic.get(bic11(bic))

    def wallet_operator(self, wallet_id: str) -> Participant | None:
        """The e-CNY operating institution a wallet id belongs to, if it is a wallet id at all."""
        if not WALLET_ID.match(wallet_id):
            return None
        found = self._by_prefix.get(wallet_id[:3])
        return found if found is not None and found.ecny_operator else None


def _participant(d: dict[str, object]) -> Participant:
    return Participant(
        bic=str(d["bic"]), name=str(d["name"]), town=str(d["town"]), country=str(d["country"]),
        cips_id=str(d["cips_id"]) if d.get("cips_id") else None,
        name_zh=str(d["name_zh"]) if d.get("name_zh") else None,
        ecny_operator=bool(d.get("ecny_operator", False)),
        wallet_prefix=str(d["wallet_prefix"]) if d.get("wallet_prefix") else None,
        currencies=tuple(str(c) for c in d.get("currencies", ()) or ()),  # type: ignore[attr-defined]
    )


def parse_directory(data: dict[str, object]) -> Directory:
    parts = tuple(_participant(p) for p in data.get("participants", []))  # type: ignore[attr-defined]
    corrs = tuple(_participant(p) for p in data.get("correspondents", []))  # type: ignore[attr-defined]
    for p in parts:
        if p.cips_id and not CIPS_ID.match(p.cips_id):
            raise ValueError(f"participant {p.bic}: CIPS id {p.cips_id!r} is not C + 10 digits")
    return Directory(str(data.get("clearing_system", "CIPS")), parts, corrs)


@lru_cache(maxsize=4)
def load_directory(path: Path = DEFAULT_PATH) -> Directory:
    return parse_directory(json.loads(path.read_text(encoding="utf-8")))
