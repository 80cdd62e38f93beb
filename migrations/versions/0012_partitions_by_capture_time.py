"""Raw rows partitioned by capture time.

``samples`` and ``emotion_events`` (by ``captured_at``) and ``speech_segments`` (by
``started_at``) become tables partitioned by range, one partition a week (Monday 00:00 UTC to
the next), named ``samples_w2026_12_07`` etc., plus a default partition for rows outside them:
retention then drops whole weeks (contracts/retention.py creates weeks ahead and drops expired
ones). Existing rows move into the partitions. A frame's key gains its capture time (PostgreSQL
needs the partition key in every unique key); the same frame stored twice still has the same
one, so it is still stored once. The views over them are made again, unchanged, and the
database no longer compiles queries just in time (``jit = off``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Table: (the time it is partitioned by, its unique key, its index by session and time).
TABLES = {
    "samples": ("captured_at", "uq_samples_frame", "ix_samples_session_captured"),
    "emotion_events": ("captured_at", "uq_emotion_events_frame",
                       "ix_emotion_events_session_captured"),
    "speech_segments": ("started_at", "uq_speech_segments_seq",
                        "ix_speech_segments_session_started"),
}
WEEK = timedelta(days=7)
WEEKS_AHEAD = 4


def upgrade() -> None:
    views = _drop_views()
    for table, (column, unique, index) in TABLES.items():
        _swap(table, column, unique, index, partitioned=True)
    _make_views(views)
    # A plan over a year's weeks has hundreds of nodes: PostgreSQL's JIT then spent 2.2 s
    # compiling a person's 8 ms report query. Off for everyone using this database.
    op.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', "
               "current_database()); END $$")


def downgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET jit', "
               "current_database()); END $$")
    views = _drop_views()
    for table, (column, unique, index) in TABLES.items():
        _swap(table, column, unique, index, partitioned=False)
    _make_views(views)


def _swap(table: str, column: str, unique: str, index: str, partitioned: bool) -> None:
    """Replace ``table`` by one partitioned by week of ``column`` (or, going back, not),
    holding its rows, with the same keys: the capture time joins the unique ones."""
    old, primary = f"{table}_old", f"pk_{table}"
    key = f", {column}" if partitioned else ""
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    for name in (primary, unique, index):
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
               + (f" PARTITION BY RANGE ({column})" if partitioned else ""))
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {primary} PRIMARY KEY (id{key})")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {unique} "
               f"UNIQUE (participant_id, capture_id, seq{key})")
    op.execute(f"CREATE INDEX {index} ON {table} (session_id, {column})")
    for reference, target in (("session_id", "sessions"), ("participant_id", "participants")):
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{reference}_{target} "
                   f"FOREIGN KEY ({reference}) REFERENCES {target}(id) ON DELETE CASCADE")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    if partitioned:
        _weeks(table, column, op.get_bind().scalar(sa.text(f"SELECT min({column}) FROM {old}")))
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")
    # A partitioned table's statistics are never gathered by autovacuum: without them, plans
    # over a year of rows went wrong by orders of magnitude.
    op.execute(f"ANALYZE {table}")


def _weeks(table: str, column: str, first: datetime | None) -> None:
    """The default partition, and one for every week from ``first`` (or this week) to
    WEEKS_AHEAD weeks from now."""
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    now = datetime.now(UTC)
    week = _monday(min(first, now) if first else now)
    while week < now + WEEKS_AHEAD * WEEK:
        op.execute(f"CREATE TABLE {table}_w{week:%Y_%m_%d} PARTITION OF {table} FOR VALUES "
                   f"FROM ('{week.isoformat()}') TO ('{(week + WEEK).isoformat()}')")
        week += WEEK


def _monday(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _drop_views() -> list[tuple[str, str]]:
    """Every view's name and definition, oldest first (each made after those it reads), once
    all are dropped: they are made again over the new tables."""
    views = [tuple(row) for row in op.get_bind().execute(sa.text(
        "SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'v' AND n.nspname = current_schema() ORDER BY c.oid"))]
    for name, _ in reversed(views):
        op.execute(f"DROP VIEW {name}")
    return views


def _make_views(views: list[tuple[str, str]]) -> None:
    for name, definition in views:
        op.execute(f"CREATE VIEW {name} AS {definition}")
