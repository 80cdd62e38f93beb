"""``econsult dashboard``: the consultants' and managers' web app (``dashboard.server``)."""

from __future__ import annotations

import argparse

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dashboard", help="run the managers' dashboard")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.server import serve

    return serve(settings)
