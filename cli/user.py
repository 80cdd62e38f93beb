"""``econsult user add``: create a consultant's or a manager's account; the password is asked
for (twice) or read from standard input, never taken from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from cli import CommandError
from contracts.accounts import AccountError, add_user
from contracts.database import engine_for
from contracts.schema import ACCOUNT_ROLES
from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("user", help="manage accounts (consultants and managers)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ACCOUNT_ROLES,
                     help="consultant: holds rooms, sees their own sessions; "
                          "manager: sees every session")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input (for scripts)")
    add.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ")
    engine = engine_for(settings.database_url)
    try:
        add_user(engine, args.username, password, args.role)
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"{args.role} {args.username} can now sign in to the dashboard")
    return 0
