"""``engined token``: the named API tokens, without hashing by hand (docs/SECURITY.md).

engined token add NAME --role read|admin   make a token, print it once, append its hash
engined token list                         the names and roles (never a token or a hash)
engined token remove NAME                  drop one (the engine notices within a second)

The file is SIGMAVAULT_API_TOKENS_FILE (default ``<data_dir>/api-tokens``), mode 0600; a running
engine reads it again when it changes.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from engine.access import credentials
from engine.config import ConfigError, EngineConfig

if TYPE_CHECKING:
    import argparse


def add_token_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser("token", help="add, list or remove named API tokens")
    actions = token.add_subparsers(dest="token_command", required=True)
    add = actions.add_parser("add", help="make a token, print it once and keep its hash")
    add.add_argument("name", help="the token's name (the access log and per-client limits show it)")
    add.add_argument(
        "--role",
        choices=credentials.ROLES,
        default="read",
        help="read: only calls that read the engine's state; admin: every call",
    )
    actions.add_parser("list", help="the tokens' names and roles")
    remove = actions.add_parser("remove", help="drop a token")
    remove.add_argument("name")


def run_token_command(args: argparse.Namespace) -> int:
    try:
        cfg = EngineConfig.from_env()
        cfg.check_data_dir()
    except ConfigError as exc:
        print(f"engined: configuration error: {exc}", file=sys.stderr)
        return 2
    path = cfg.api_tokens_file
    try:
        if args.token_command == "add":
            token = credentials.add_named_token(path, args.name, args.role)
            print(f"engined: added {args.name!r} ({args.role}) to {path}; the token, shown this once:", file=sys.stderr)
            print(token)
        elif args.token_command == "list":
            for entry in credentials.read_tokens_file(path):
                print(f"{entry.name}\t{entry.role}")
        else:
            removed = credentials.remove_named_token(path, args.name)
            if removed is None:
                print(f"engined: no token named {args.name!r} in {path}", file=sys.stderr)
                return 1
            print(
                f"engined: removed {removed.name!r} ({removed.role}) from {path}; a running engine refuses it "
                "within a second",
                file=sys.stderr,
            )
    except credentials.CredentialError as exc:
        print(f"engined: SIGMAVAULT_API_TOKENS_FILE {path}: {exc.rule}", file=sys.stderr)
        return 2
    return 0
