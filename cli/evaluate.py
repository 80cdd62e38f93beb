"""``econsult evaluate``: a model's accuracy on a FER2013-style npz (``training.evaluate``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("evaluate",
                                 help="accuracy of a model on a FER2013-style npz")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="default ECONSULT_MODEL_PATH")
    parser.add_argument("--confusion-png", type=Path, help="also draw the confusion matrix")
    parser.add_argument("--votes", type=Path,
                        help="FER+ votes for --data's faces: score against their majority")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from training.evaluate import evaluate

    return evaluate(args.data, args.model or Path(settings.model_path), args.confusion_png,
                    args.votes)
