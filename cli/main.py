"""``econsult <command>``: parses arguments and hands over to the module that does the work.

Commands import their service lazily so that ``econsult --help`` does not load TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import redis
from sqlalchemy.exc import OperationalError

from cli import CommandError
from contracts.schema import ACCOUNT_ROLES, ROOM_KINDS
from contracts.settings import Settings, SettingsError

# TensorFlow's C++ start-up chatter (no GPU found, CPU features) hides what econsult says.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        return int(args.run(args, settings) or 0)
    except (SettingsError, CommandError) as exc:
        print(f"econsult {args.command}: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"econsult {args.command}: cannot use PostgreSQL ({_first_line(exc.orig)}); is it "
              "running, and is DATABASE_URL right? scripts/setup starts it", file=sys.stderr)
        return 2
    except redis.ConnectionError as exc:
        print(f"econsult {args.command}: cannot reach Redis ({exc}); is it running, and is "
              "REDIS_URL right? scripts/setup starts it", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="econsult", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="migrate, then run every service until Ctrl-C")
    up.add_argument("--workers", type=int, help="worker processes (default ECONSULT_WORKERS)")
    up.set_defaults(run=_up)

    migrate = commands.add_parser("migrate", help="create the database and apply migrations")
    migrate.add_argument("--revision", default="head", help="target revision (default head)")
    migrate.set_defaults(run=_migrate)

    ingest = commands.add_parser("ingest", help="run the consult room's web server")
    ingest.set_defaults(run=_ingest)

    dashboard = commands.add_parser("dashboard", help="run the managers' dashboard")
    dashboard.set_defaults(run=_dashboard)

    janus = commands.add_parser("janus", help="run the SFU (Janus) with econsult's configuration")
    janus.set_defaults(run=_janus)

    user = commands.add_parser("user", help="manage accounts (consultants and managers)")
    user_commands = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_user = user_commands.add_parser("add", help="create a user (asks for the password)")
    add_user.add_argument("username")
    add_user.add_argument("--role", required=True, choices=ACCOUNT_ROLES,
                          help="consultant: holds rooms, sees their own sessions; "
                               "manager: sees every session")
    add_user.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input (for scripts)")
    add_user.set_defaults(run=_add_user)

    room = commands.add_parser("room", help="set up a room and its invitation links")
    room_commands = room.add_subparsers(dest="action", required=True, metavar="ACTION")
    create_room = room_commands.add_parser("create", help="set up a room and print its links")
    create_room.add_argument("name")
    create_room.add_argument("--consultant", required=True, help="username of the consultant")
    create_room.add_argument("--kind", choices=ROOM_KINDS, default="consultation")
    create_room.set_defaults(run=_create_room)
    for action, text in (("links", "print new links for an open room"),
                         ("withdraw", "withdraw every invitation to an open room"),
                         ("close", "close a room: its links open nothing from now on")):
        changing = room_commands.add_parser(action, help=text)
        changing.add_argument("name")
        changing.set_defaults(run=_change_room)

    worker = commands.add_parser("worker", help="run one inference worker")
    worker.add_argument("--name", help="consumer name (default host-pid)")
    worker.set_defaults(run=_worker)

    analyze = commands.add_parser("analyze", help="analyse a recorded consultation")
    analyze.add_argument("video", type=Path)
    analyze.add_argument("--room", required=True, help="room name the session is filed under")
    analyze.add_argument("--participant", default="client", help="name of the person filmed")
    analyze.add_argument("--role", default="client", choices=("client", "student", "consultant"))
    analyze.add_argument("--consultant", help="consultant who led the session")
    analyze.add_argument("--realtime", action="store_true",
                         help="publish at the video's own pace, as a live room would")
    analyze.add_argument("--timeout", type=float, default=60.0,
                         help="seconds to wait for workers to make progress before giving up")
    analyze.set_defaults(run=_analyze)

    erase = commands.add_parser("delete", help="erase a session or a participant's data")
    target = erase.add_mutually_exclusive_group(required=True)
    target.add_argument("--session", help="session id: everything of the session")
    target.add_argument("--participant", help="participant id: everything of that person")
    erase.set_defaults(run=_delete)

    # Defaults live in training.train.TrainConfig; only what is given here overrides them.
    train = commands.add_parser("train", help="train the emotion model on FER+ votes",
                                argument_default=argparse.SUPPRESS)
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--learning-rate", type=float, help="peak of the cosine schedule")
    train.add_argument("--seed", type=int)
    train.add_argument("--resume", action="store_true", help="continue the run in --checkpoints")
    train.add_argument("--checkpoints", type=Path, help="where each epoch is saved")
    train.add_argument("--init", type=Path,
                       help="start from this model's weights (same architecture), e.g. the "
                            "shipped worker/weights/emotion.keras")
    train.add_argument("--widths", type=_widths,
                       help="channels of each stage, comma-separated (default: the served model's)")
    train.add_argument("--teacher", type=Path, action="append", dest="teachers",
                       help="a served .tflite model whose probabilities soften the labels; "
                            "repeat it to learn from the mean of several")
    train.add_argument("--average-from", type=int, metavar="EPOCH",
                       help="from this epoch on, hold the learning rate and average the weights "
                            "of every epoch (stochastic weight averaging)")
    train.add_argument("--output", type=Path, help="where the best model is exported")
    train.add_argument("--version", required=True, help="model version stored with every event")
    train.set_defaults(run=_train)

    export = commands.add_parser("export", help="turn a training checkpoint into the served model")
    export.add_argument("checkpoint", type=Path, help="a .keras file written by `econsult train`")
    export.add_argument("--output", type=Path, default=Path("worker/weights/emotion.tflite"))
    export.add_argument("--version", required=True, help="model version stored with every event")
    export.set_defaults(run=_export)

    evaluate = commands.add_parser("evaluate", help="accuracy of a model on a FER2013-style npz")
    evaluate.add_argument("--data", type=Path, required=True)
    evaluate.add_argument("--model", type=Path, help="default ECONSULT_MODEL_PATH")
    evaluate.add_argument("--confusion-png", type=Path, help="also draw the confusion matrix")
    evaluate.add_argument("--votes", type=Path,
                          help="FER+ votes for --data's faces: score against their majority")
    evaluate.set_defaults(run=_evaluate)
    bench = commands.add_parser(
        "bench", help="measure the model and the pipeline, the face detector, expressions read "
                      "end to end, the room, a class through the SFU or the dashboard")
    bench.add_argument("what", nargs="?",
                       choices=("pipeline", "faces", "expressions", "room", "class", "dashboard"),
                       default="pipeline")
    bench.add_argument("--workers", type=int, default=2, help="workers to run")
    bench.add_argument("--participants", type=int, nargs="+", default=[10, 25, 50],
                       help="room sizes to load (room, class)")
    bench.add_argument("--seconds", type=float, default=20.0,
                       help="measurement window per room size (room, class)")
    bench.set_defaults(run=_bench)
    return parser


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from cli.up import run_all

    return run_all(settings, args.workers or settings.workers)


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from migrations.runner import upgrade

    upgrade(settings.database_url, args.revision)
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.server import run

    return run(settings)


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.app import run

    return run(settings)


def _janus(args: argparse.Namespace, settings: Settings) -> int:
    from cli.janus import run

    return run(settings)


def _add_user(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from contracts.accounts import AccountError, add_user
    from contracts.database import engine_for

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


def _create_room(args: argparse.Namespace, settings: Settings) -> int:
    from cli.rooms import create

    return create(settings, args.name, args.kind, args.consultant)


def _change_room(args: argparse.Namespace, settings: Settings) -> int:
    from cli.rooms import change

    return change(settings, args.name, args.action)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from worker.main import run

    return run(settings, args.name)


def _analyze(args: argparse.Namespace, settings: Settings) -> int:
    from cli.analyze import AnalyzeRequest, analyze

    request = AnalyzeRequest(args.video, args.room, args.participant, args.role,
                             args.consultant, args.realtime, args.timeout)
    return analyze(request, settings)


def _delete(args: argparse.Namespace, settings: Settings) -> int:
    from cli.delete import delete_data

    return delete_data(settings, args.session, args.participant)


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(width) for width in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of channel counts like 32,64,128")
    return widths


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import fields

    from training.train import TrainConfig, train

    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    train(TrainConfig(**given))
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    if not args.checkpoint.is_file():
        raise CommandError(f"{args.checkpoint} does not exist")
    from training.export import export

    export(args.checkpoint, args.output, args.version)
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from training.evaluate import evaluate

    return evaluate(args.data, args.model or Path(settings.model_path), args.confusion_png,
                    args.votes)


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from bench.run import run

    return run(settings, args.what, args.workers, args.participants, args.seconds)


if __name__ == "__main__":
    sys.exit(main())
