"""Analyst accounts: one per person, argon2id password hashes, from settings and/or a file.

The accounts file holds one ``name:hash`` line per analyst (``#`` starts a comment); write lines
with ``router review-account NAME --file FILE``. Names are case-sensitive. Every sign-in costs one
argon2 verification, also for an unknown name, so timing does not tell which names exist.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


class AccountError(ValueError):
    pass


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not-an-account-password")


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise AccountError("an analyst password needs at least 12 characters")
    return _hasher.hash(password)


def _check(name: str, hashed: str, where: str) -> None:
    if not NAME.match(name):
        raise AccountError(f"{where}: account name {name!r} must be 1-64 of A-Z a-z 0-9 . _ @ -")
    if not hashed.startswith("$argon2"):
        raise AccountError(f"{where}: account {name!r} needs an argon2 hash (router review-account), "
                           "not a plain password")


def parse_accounts_file(text: str, where: str = "accounts file") -> dict[str, str]:
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep:
            raise AccountError(f"{where}:{n}: expected name:hash")
        _check(name, hashed, f"{where}:{n}")
        if name in out:
            raise AccountError(f"{where}:{n}: account {name!r} appears twice")
        out[name] = hashed
    return out


def with_account(text: str, name: str, hashed: str) -> str:
    """The accounts file ``text`` with ``name``'s line added or replaced."""
    _check(name, hashed, "new account")
    kept = [ln for ln in text.splitlines() if ln.strip().partition(":")[0] != name or ln.strip().startswith("#")]
    return "\n".join([*kept, f"{name}:{hashed}"]) + "\n"


class Accounts:
    def __init__(self, hashes: dict[str, str]) -> None:
        for name, hashed in hashes.items():
            _check(name, hashed, "settings web.accounts")
        self._hashes = dict(hashes)

    @classmethod
    def load(cls, inline: dict[str, str], file: Path | None) -> Accounts:
        hashes = dict(inline)
        if file is not None:
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise AccountError(f"cannot read the analyst accounts file {file}: {exc.strerror}") from exc
            for name, hashed in parse_accounts_file(text, str(file)).items():
                if name in hashes:
                    raise AccountError(f"account {name!r} is both in settings and in {file}")
                hashes[name] = hashed
        return cls(hashes)

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, name: object) -> bool:
        return name in self._hashes

    def verify(self, name: str, password: str) -> bool:
        """True when ``password`` is ``name``'s. CPU-bound (argon2): call it off the event loop."""
        hashed = self._hashes.get(name)
        try:
            ok = _hasher.verify(hashed or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and hashed is not None
