"""``econsult bench``: measure the model, the pipeline, the room, a class, the dashboard and
speech activity (``bench.run``)."""

from __future__ import annotations

import argparse

from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bench", help="measure the model and the pipeline, the face detector, expressions read "
                      "end to end, the room, a class through the SFU, the dashboard, speech "
                      "activity (the detector's accuracy, cost and delay, against their targets) "
                      "or a year of history")
    parser.add_argument("what", nargs="?",
                        choices=("pipeline", "faces", "expressions", "room", "class",
                                 "dashboard", "speech", "history"),
                        default="pipeline")
    parser.add_argument("--workers", type=int, default=2, help="workers to run")
    parser.add_argument("--participants", type=int, nargs="+", default=[10, 25, 50],
                        help="room sizes to load (room, class)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measurement window per room size (room, class)")
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0],
                        help="practice sizes to build, times 20 consultants (history)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bench.run import run as measure

    return measure(settings, args.what, args.workers, args.participants, args.seconds,
                   args.scale)
