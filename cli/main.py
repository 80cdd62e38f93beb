"""``econsult <command>``: parses arguments and hands over to the module that does the work.

Commands import their service lazily so that ``econsult --help`` does not load TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys

import redis
from sqlalchemy.exc import OperationalError

from cli import (
    CommandError,
    analyze,
    bench,
    dashboard,
    delete,
    evaluate,
    export,
    ingest,
    janus,
    migrate,
    retention,
    rooms,
    train,
    up,
    user,
    worker,
)
from contracts.settings import Settings, SettingsError

# TensorFlow's C++ start-up chatter (no GPU found, CPU features) hides what econsult says.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# In the order `econsult --help` lists them; each adds its parser, whose defaults name its run.
COMMANDS = (up, migrate, ingest, dashboard, janus, user, rooms, worker, analyze, delete,
            retention, train, export, evaluate, bench)


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
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
