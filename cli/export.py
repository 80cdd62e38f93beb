"""``econsult export``: turn a training checkpoint into the model the worker serves
(``training.export``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import CommandError
from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export",
                                 help="turn a training checkpoint into the served model")
    parser.add_argument("checkpoint", type=Path,
                        help="a .keras file written by `econsult train`")
    parser.add_argument("--output", type=Path, default=Path("worker/weights/emotion.tflite"))
    parser.add_argument("--version", required=True,
                        help="model version stored with every event")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.checkpoint.is_file():
        raise CommandError(f"{args.checkpoint} does not exist")
    from training.export import export

    export(args.checkpoint, args.output, args.version)
    return 0
