"""Analyst accounts for tests: two people with their own passwords (four eyes needs two)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher

from router.config import Settings, WebSettings

PASSWORDS = {"ana": "ana-passw0rd-long", "bo": "bo-passw0rd-longer"}


@cache
def account_hashes() -> dict[str, str]:
    # Cheap argon2 parameters keep sign-ins in tests fast; the page verifies whatever
    # parameters a hash carries (production hashes use the library's default cost).
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return {name: cheap.hash(pw) for name, pw in PASSWORDS.items()}


def web_with_analysts(web: WebSettings, **update: object) -> WebSettings:
    return web.model_copy(update={"accounts": account_hashes(), **update})


def with_analysts(settings: Settings, **update: object) -> Settings:
    """``settings`` whose review page knows ana and bo (``update``: more web settings)."""
    return settings.model_copy(update={"web": web_with_analysts(settings.web, **update)})
