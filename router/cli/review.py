"""``router review-server``: run the compliance review page (held cases, release / reject);
``router review-account``: add an analyst's account (argon2 hash) to an accounts file."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("review-server", help="serve the compliance review web page")
    p.add_argument("--host", default=None, help="bind address (default: settings web.host)")
    p.add_argument("--port", type=int, default=None, help="port (default: settings web.port)")
    p.set_defaults(func=_run)
    a = sub.add_parser("review-account", help="add or replace an analyst's account (password read from the terminal "
                                              "or stdin)")
    a.add_argument("name", help="the analyst's user name")
    a.add_argument("--file", type=Path, default=None,
                   help="accounts file to update (name:hash lines); without it, print the line")
    a.set_defaults(func=_account)


def _run(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.kafka_access import AccessDenied
    from router.web.accounts import AccountError
    from router.web.server import serve

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper().replace("WARN", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        serve(settings, host=args.host, port=args.port)
    except (AccountError, AccessDenied) as exc:
        raise CliError(str(exc)) from exc
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        from router.cli import CliError
        raise CliError("the passwords differ")
    return first


def _account(args: argparse.Namespace) -> int:
    from router.cli import CliError
    from router.web.accounts import AccountError, hash_password, with_account

    try:
        line_hash = hash_password(_read_password())
        if args.file is None:
            with_account("", args.name, line_hash)  # checks the name
            print(f"{args.name}:{line_hash}")
            return 0
        text = args.file.read_text(encoding="utf-8") if args.file.exists() else ""
        updated = with_account(text, args.name, line_hash)
    except AccountError as exc:
        raise CliError(str(exc)) from exc
    # The file holds password hashes: readable by its owner only.
    fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(updated)
    print(f"account {args.name!r} written to {args.file}")
    return 0
