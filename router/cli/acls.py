"""``router acls lines|manifest``: each role's ACLs on a secured cluster (``router.access``)."""

from __future__ import annotations

import argparse

from router.access import ROLES, USER_PREFIX, principal, role_acls, strimzi_users
from router.config import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("acls", help="print each role's Kafka ACLs (for a secured cluster)")
    asub = p.add_subparsers(dest="action", metavar="ACTION")
    asub.required = True
    ls = asub.add_parser("lines", help="one ALLOW rule a line, under the configured topic prefix and app id "
                                       "(deploy/local/kafka acls reads them)")
    ls.add_argument("--role", action="append", choices=sorted(ROLES), help="only this role (repeatable)")
    ls.add_argument("--user-prefix", default=USER_PREFIX, help=f"SCRAM user name before the role ({USER_PREFIX})")
    ls.set_defaults(func=_lines)
    m = asub.add_parser("manifest", help="print Strimzi KafkaUser manifests generated from the role table")
    m.add_argument("--cluster", default="corridor-kafka", help="Strimzi cluster label")
    m.set_defaults(func=_manifest)


def _lines(args: argparse.Namespace) -> int:
    s = get_settings()
    for role in args.role or sorted(ROLES):
        for acl in role_acls(role, topic_prefix=s.kafka.topic_prefix, app_id=s.app_id):
            print(acl.line(principal(role, args.user_prefix)))
    return 0


def _manifest(args: argparse.Namespace) -> int:
    print(strimzi_users(args.cluster), end="")
    return 0
