"""How long econsult keeps what it stores, and keeping to it.

- **Raw rows** (every analysed frame, every face's probabilities, every speech segment) are kept
  ``ECONSULT_RETENTION_DAYS`` (90): enough to review a quarter's sessions in detail. They are
  partitioned by week of capture (migration 0012), and a week is dropped whole once all of it
  is older than that: a row goes between 90 and 97 days after its capture, never by a long
  ``DELETE``.
- **Sessions with their summaries** (who took part, consent, the session's figures: no frame,
  no face) are kept ``ECONSULT_SUMMARY_RETENTION_DAYS`` (730): two years, so that this year can be
  compared with the last. Then the session is deleted with everything of it.

A retention pass also creates the weeks ahead (:data:`WEEKS_AHEAD`), so that rows never land in
the default partition, which only catches what falls outside every week. Workers run a pass
every :data:`PASS_EVERY_S` (one at a time); ``econsult retention`` runs one for cron users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

# Partitioned tables and the time they are partitioned by.
PARTITIONED = {"samples": "captured_at", "emotion_events": "captured_at",
               "speech_segments": "started_at"}
WEEK = timedelta(days=7)
WEEKS_AHEAD = 4
PASS_EVERY_S = 3600.0
_LOCK = 0x6563_7265_746E  # "ecretn": the advisory lock of a pass


@dataclass(frozen=True)
class Pass:
    """What one retention pass did."""

    weeks_created: int
    weeks_dropped: int
    rows_outside_weeks_deleted: int
    sessions_deleted: int


def retention_pass(conn: Connection, raw_days: float, summary_days: float,
                   now: datetime | None = None) -> Pass | None:
    """Create the weeks ahead, drop the expired ones and delete expired sessions; None when
    another pass holds the lock."""
    if summary_days < raw_days:
        raise ValueError(f"sessions would be kept {summary_days:g} days but their frames "
                         f"{raw_days:g}: set ECONSULT_SUMMARY_RETENTION_DAYS to at least "
                         "ECONSULT_RETENTION_DAYS")
    if not conn.scalar(text(f"SELECT pg_try_advisory_xact_lock({_LOCK})")):
        return None
    now = now or datetime.now(UTC)
    raw_cutoff = now - timedelta(days=raw_days)
    created = create_weeks(conn, now, now + WEEKS_AHEAD * WEEK)
    dropped = outside = 0
    for table, column in PARTITIONED.items():
        for start in sorted(_weeks(conn, table)):
            if start + WEEK <= raw_cutoff:
                conn.execute(text(f"DROP TABLE {partition(table, start)}"))
                dropped += 1
        outside += conn.execute(text(f"DELETE FROM {table}_default WHERE {column} < :cutoff"),
                                {"cutoff": raw_cutoff}).rowcount
    sessions = conn.execute(text("DELETE FROM sessions WHERE started_at < :cutoff"),
                            {"cutoff": now - timedelta(days=summary_days)}).rowcount
    return Pass(created, dropped, outside, sessions)


def create_weeks(conn: Connection, start: datetime, end: datetime) -> int:
    """A partition of every partitioned table for each week from ``start``'s to the one that
    holds ``end``, where there is none yet (taking that week's rows out of the default
    partition, if any landed there); how many were created."""
    created = 0
    for table, column in PARTITIONED.items():
        weeks = _weeks(conn, table)
        week = monday(start)
        while week < end:
            if week not in weeks:
                name, bounds = partition(table, week), {"from": week, "to": week + WEEK}
                conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS "
                                  "INCLUDING CONSTRAINTS)"))
                conn.execute(text(
                    f"WITH moved AS (DELETE FROM {table}_default WHERE {column} >= :from "
                    f"AND {column} < :to RETURNING *) INSERT INTO {name} SELECT * FROM moved"),
                    bounds)
                conn.execute(text(
                    f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES "
                    f"FROM ('{week.isoformat()}') TO ('{(week + WEEK).isoformat()}')"))
                created += 1
            week += WEEK
    return created


def monday(moment: datetime) -> datetime:
    """The start of ``moment``'s week: Monday 00:00 UTC."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def partition(table: str, week: datetime) -> str:
    return f"{table}_w{week:%Y_%m_%d}"


def _weeks(conn: Connection, table: str) -> set[datetime]:
    """The first day of each of ``table``'s weekly partitions."""
    names = conn.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:table AS regclass)"), {"table": table})
    prefix = f"{table}_w"
    return {datetime.strptime(name.removeprefix(prefix), "%Y_%m_%d").replace(tzinfo=UTC)
            for name in names if name.startswith(prefix)}


def raw_expired(started_at: datetime, raw_days: float, now: datetime | None = None) -> bool:
    """Whether the frames of a session that started then may have been deleted."""
    return started_at < (now or datetime.now(UTC)) - timedelta(days=raw_days)


def raw_expired_sql(started_at: str, raw_days: float) -> str:
    """:func:`raw_expired` of the column ``started_at``, now."""
    return f"{started_at} < now() - interval '{float(raw_days)} days'"
