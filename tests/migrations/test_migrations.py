"""Migrations build exactly the schema the code declares, and undo it completely."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from contracts.database import drop_database, engine_for
from contracts.schema import Base
from migrations.runner import downgrade, upgrade


@pytest.fixture
def scratch_url(settings):
    url = settings.database_url.rsplit("/", 1)[0] + f"/econsult_migrations_{uuid.uuid4().hex[:8]}"
    yield url
    drop_database(url)


VIEWS = {"session_summary", "participant_minute", "participant_summary", "emotion_readings",
         "personal_readings", "speech_turns", "speech_interruptions", "speech_summary",
         "session_speech"}


def _tables_and_types(url: str) -> tuple[set[str], set[str]]:
    """Tables and views (together), and enum types, that the migrations made."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            types = set(conn.scalars(text("SELECT typname FROM pg_type t JOIN pg_namespace n "
                                          "ON n.oid = t.typnamespace WHERE n.nspname = 'public' "
                                          "AND t.typtype = 'e'")))
            relations = set(inspect(conn).get_table_names()) | set(inspect(conn).get_view_names())
            return relations - {"alembic_version"} - _partitions(conn), types
    finally:
        engine.dispose()


def _partitions(conn) -> set[str]:
    """The weeks (and the default partition) of the tables partitioned by capture time."""
    return set(conn.scalars(text("SELECT c.relname FROM pg_inherits i "
                                 "JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'r'")))


def test_upgrade_creates_the_declared_schema_and_downgrade_removes_it(scratch_url):
    upgrade(scratch_url)
    engine = engine_for(scratch_url)
    with engine.connect() as conn:
        partitions = _partitions(conn)
        assert {p.rsplit("_w", 1)[0].removesuffix("_default") for p in partitions} == {
            "samples", "emotion_events", "speech_segments"}
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, _: kind != "table" or name not in partitions})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
    assert _tables_and_types(scratch_url)[0] == set(Base.metadata.tables) | VIEWS

    downgrade(scratch_url, "base")
    assert _tables_and_types(scratch_url) == (set(), set())

    upgrade(scratch_url)
    assert _tables_and_types(scratch_url)[0] == set(Base.metadata.tables) | VIEWS


def test_econsult_migrate_creates_a_missing_database(scratch_url):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": scratch_url}
    result = subprocess.run([sys.executable, "-m", "cli.main", "migrate"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _tables_and_types(scratch_url)[0] == set(Base.metadata.tables) | VIEWS


def test_accounts_made_before_roles_existed_become_managers(scratch_url):
    upgrade(scratch_url, "0006")
    engine = engine_for(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, password_hash) VALUES ('old', 'x')"))
        upgrade(scratch_url)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT role::text FROM users WHERE username = 'old'")) \
                == "manager"
    finally:
        engine.dispose()


def test_analysts_cannot_read_sign_ins_or_invitations(scratch_url):
    upgrade(scratch_url)
    engine = engine_for(scratch_url)
    try:
        with engine.connect() as conn:
            readable = set(conn.scalars(text(
                "SELECT table_name FROM information_schema.role_table_grants "
                "WHERE grantee = 'econsult_analyst' AND privilege_type = 'SELECT'")))
    finally:
        engine.dispose()
    assert readable.isdisjoint({"users", "sign_ins", "failed_sign_ins",
                                "failed_sign_ins_by_address", "invitations"})
    assert {"sessions", "rooms"} <= readable


def test_partitioning_by_capture_time_keeps_every_row_up_and_down(scratch_url):
    """Rows stored before revision 0012, over several weeks, move into a partition a week,
    every view still reads them, and going back keeps them too."""
    upgrade(scratch_url, "0011")
    engine = engine_for(scratch_url)
    start = datetime.now(UTC) - timedelta(days=30)
    frames = [start + timedelta(days=day, seconds=second) for day in range(0, 30, 3)
              for second in range(5)]
    try:
        with engine.begin() as conn:
            session_id = _populate(conn, start, frames)
        counts = _counts(engine, session_id)
        assert counts == {"samples": 50, "emotion_events": 50, "speech_segments": 10,
                          "session_summary": 50}
        upgrade(scratch_url, "0012")
        assert _counts(engine, session_id) == counts
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM samples_default")) == 0
            assert conn.scalar(text(
                "SELECT count(DISTINCT tableoid) FROM emotion_events")) >= 4  # weeks
            conn.execute(text(  # the same frame again is still a duplicate
                "INSERT INTO samples (session_id, participant_id, capture_id, seq, captured_at, "
                "face_found, others_in_view, model_version) SELECT session_id, participant_id, "
                "capture_id, seq, captured_at, true, 0, 'x' FROM samples LIMIT 1 "
                "ON CONFLICT ON CONSTRAINT uq_samples_frame DO NOTHING"))
        assert _counts(engine, session_id) == counts
        downgrade(scratch_url, "0011")
        assert _counts(engine, session_id) == counts
        upgrade(scratch_url)
        assert _counts(engine, session_id) == counts
    finally:
        engine.dispose()


def _populate(conn, start: datetime, frames: list[datetime]) -> uuid.UUID:
    session_id, person = uuid.uuid4(), uuid.uuid4()
    conn.execute(text("INSERT INTO sessions (id, room, source, started_at) "
                      "VALUES (:id, 'weeks', 'room', :start)"), {"id": session_id, "start": start})
    conn.execute(text("INSERT INTO participants (id, session_id, role, display_name, joined_at, "
                      "consent_at, voice_consent_at) VALUES (:id, :session, 'client', 'Ann', "
                      ":start, :start, :start)"),
                 {"id": person, "session": session_id, "start": start})
    for seq, at in enumerate(frames):
        row = {"session": session_id, "person": person, "seq": seq, "at": at}
        conn.execute(text(
            "INSERT INTO samples (session_id, participant_id, capture_id, seq, captured_at, "
            "face_found, others_in_view, model_version) "
            "VALUES (:session, :person, :person, :seq, :at, true, 0, 'test')"), row)
        conn.execute(text(
            "INSERT INTO emotion_events (session_id, participant_id, capture_id, seq, "
            "captured_at, box_x, box_y, box_w, box_h, angry, disgust, fear, happy, neutral, sad, "
            "surprise, dominant, model_version) VALUES (:session, :person, :person, :seq, :at, "
            "0, 0, 10, 10, 0, 0, 0, 1, 0, 0, 0, 'happy', 'test')"), row)
        if seq % 5 == 0:
            conn.execute(text(
                "INSERT INTO speech_segments (session_id, participant_id, capture_id, seq, "
                "started_at, ended_at) VALUES (:session, :person, :person, :seq, :at, :at)"), row)
    return session_id


def _counts(engine, session_id: uuid.UUID) -> dict[str, int]:
    with engine.connect() as conn:
        counts = {table: conn.scalar(text(f"SELECT count(*) FROM {table} WHERE session_id = :id"),
                                     {"id": session_id})
                  for table in ("samples", "emotion_events", "speech_segments")}
        counts["session_summary"] = conn.scalar(text(
            "SELECT faces FROM session_summary WHERE session_id = :id"), {"id": session_id})
    return counts
