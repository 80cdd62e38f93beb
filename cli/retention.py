"""``econsult retention``: one retention pass (contracts/retention.py), for cron users; the
workers run one every hour."""

from __future__ import annotations

import argparse

from cli import CommandError
from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "retention", help="delete what the retention policy no longer allows "
                          "(ECONSULT_RETENTION_DAYS, ECONSULT_SUMMARY_RETENTION_DAYS) and "
                          "prepare the weeks ahead")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from contracts.database import engine_for
    from contracts.retention import retention_pass

    engine = engine_for(settings.database_url)
    try:
        with engine.begin() as conn:
            done = retention_pass(conn, settings.retention_days,
                                  settings.summary_retention_days)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    finally:
        engine.dispose()
    if done is None:
        print("a worker is running a retention pass now; nothing else done")
        return 0
    print(f"frames, faces and speech kept {settings.retention_days:g} days: "
          f"{done.weeks_dropped} expired week(s) dropped, {done.rows_outside_weeks_deleted} "
          f"row(s) outside the weeks deleted, {done.weeks_created} week(s) ahead created; "
          f"sessions kept {settings.summary_retention_days:g} days: "
          f"{done.sessions_deleted} deleted")
    return 0
