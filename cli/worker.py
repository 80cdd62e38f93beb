"""``econsult worker``: one inference worker (``worker.main``)."""

from __future__ import annotations

import argparse

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("worker", help="run one inference worker")
    parser.add_argument("--name", help="consumer name (default host-pid)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from worker.main import run as serve

    return serve(settings, args.name)
