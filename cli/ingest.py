"""``econsult ingest``: the consult room's web server (``ingest.server``)."""

from __future__ import annotations

import argparse

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ingest", help="run the consult room's web server")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.server import run as serve

    return serve(settings)
