"""``econsult train``: train the emotion model on FER+ votes (``training.train``)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    # Defaults live in training.train.TrainConfig; only what is given here overrides them.
    parser = commands.add_parser("train", help="train the emotion model on FER+ votes",
                                 argument_default=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float, help="peak of the cosine schedule")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --checkpoints")
    parser.add_argument("--checkpoints", type=Path, help="where each epoch is saved")
    parser.add_argument("--init", type=Path,
                        help="start from this model's weights (same architecture), e.g. the "
                             "shipped worker/weights/emotion.keras")
    parser.add_argument("--widths", type=_widths,
                        help="channels of each stage, comma-separated (default: the served "
                             "model's)")
    parser.add_argument("--teacher", type=Path, action="append", dest="teachers",
                        help="a served .tflite model whose probabilities soften the labels; "
                             "repeat it to learn from the mean of several")
    parser.add_argument("--average-from", type=int, metavar="EPOCH",
                        help="from this epoch on, hold the learning rate and average the "
                             "weights of every epoch (stochastic weight averaging)")
    parser.add_argument("--output", type=Path, help="where the best model is exported")
    parser.add_argument("--version", required=True,
                        help="model version stored with every event")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from training.train import TrainConfig, train

    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    train(TrainConfig(**given))
    return 0


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(width) for width in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of channel counts like 32,64,128")
    return widths
