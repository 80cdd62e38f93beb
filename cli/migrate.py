"""``econsult migrate``: create the database if needed and upgrade it to a revision."""

from __future__ import annotations

import argparse

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("migrate", help="create the database and apply migrations")
    parser.add_argument("--revision", default="head", help="target revision (default head)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from migrations.runner import upgrade

    upgrade(settings.database_url, args.revision)
    return 0
