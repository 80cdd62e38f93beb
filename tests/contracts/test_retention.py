"""Retention (contracts/retention.py): frames, faces and speech go a whole week at a time once
older than the raw window, sessions with their summaries once older than theirs, and the weeks
ahead are always there. On a database of its own: a pass deletes what is old."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from contracts.database import drop_database, engine_for
from contracts.retention import (
    WEEKS_AHEAD,
    monday,
    partition,
    raw_expired,
    raw_expired_sql,
    retention_pass,
)
from migrations.runner import upgrade

NOW = datetime.now(UTC)


@pytest.fixture
def engine(settings):
    url = settings.database_url.rsplit("/", 1)[0] + f"/econsult_retention_{uuid.uuid4().hex[:8]}"
    upgrade(url)
    engine = engine_for(url)
    yield engine
    engine.dispose()
    drop_database(url)


def _pass(engine, raw_days: float = 90, summary_days: float = 730, now: datetime = NOW):
    with engine.begin() as conn:
        return retention_pass(conn, raw_days, summary_days, now)


def _session(engine, started: datetime, frames: int = 1) -> uuid.UUID:
    """A session with one client and ``frames`` frames a day apart from ``started``."""
    session_id, person = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sessions (id, room, source, started_at) "
                          "VALUES (:id, 'kept', 'room', :at)"), {"id": session_id, "at": started})
        conn.execute(text("INSERT INTO participants (id, session_id, role, display_name, "
                          "joined_at, consent_at) VALUES (:p, :s, 'client', 'Ann', :at, :at)"),
                     {"p": person, "s": session_id, "at": started})
        for seq in range(frames):
            conn.execute(text(
                "INSERT INTO samples (session_id, participant_id, capture_id, seq, captured_at, "
                "face_found, others_in_view, model_version) VALUES (:s, :p, :p, :seq, :at, "
                "true, 0, 'test')"),
                {"s": session_id, "p": person, "seq": seq, "at": started + timedelta(days=seq)})
    return session_id


def _frames(engine, session_id: uuid.UUID) -> list[datetime]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT captured_at FROM samples WHERE session_id = :id "
                                      "ORDER BY captured_at"), {"id": session_id}))


def test_a_pass_prepares_the_weeks_ahead_so_no_frame_lands_outside_them(engine):
    done = _pass(engine)
    assert done.weeks_created == 0  # the migration made this week and the next ones
    later = NOW + timedelta(weeks=3)
    assert _pass(engine, now=later).weeks_created == 3 * 3  # 3 weeks of each of 3 tables
    with engine.connect() as conn:
        for week in range(WEEKS_AHEAD):
            assert conn.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {
                "name": partition("samples", monday(later) + timedelta(weeks=week))})
    session_id = _session(engine, later + timedelta(days=2))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM samples_default")) == 0
    assert len(_frames(engine, session_id)) == 1


def test_frames_go_a_whole_week_at_a_time_once_older_than_the_raw_window(engine):
    first = NOW - timedelta(days=120)
    _pass(engine, now=first)  # the weeks from then on exist, as on a server running since
    session_id = _session(engine, first, frames=60)
    done = _pass(engine, raw_days=90)
    frames = _frames(engine, session_id)
    cutoff = NOW - timedelta(days=90)
    assert done.weeks_dropped >= 3 * 4  # samples, faces and speech, four weeks each at least
    assert min(frames) >= monday(cutoff)  # a week goes only once all of it is out of the window
    assert min(frames) < cutoff + timedelta(days=1)
    assert max(frames) == first + timedelta(days=59)  # what is inside the window stays


def test_rows_that_landed_outside_every_week_move_into_their_week_once_it_is_made(engine):
    """After workers were stopped for longer than the weeks ahead, say."""
    later = NOW + timedelta(weeks=8)
    session_id = _session(engine, later, frames=2)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM samples_default")) == 2
    _pass(engine, now=later)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM samples_default")) == 0
        assert conn.scalar(text(f"SELECT count(*) FROM {partition('samples', monday(later))}"))
    assert len(_frames(engine, session_id)) == 2


def test_rows_outside_every_week_are_deleted_once_old(engine):
    session_id = _session(engine, NOW - timedelta(days=400), frames=3)  # before any week
    assert len(_frames(engine, session_id)) == 3
    done = _pass(engine, raw_days=90)
    assert done.rows_outside_weeks_deleted == 3 and _frames(engine, session_id) == []


def test_sessions_go_with_their_summaries_once_older_than_theirs(engine):
    old, recent = (_session(engine, NOW - timedelta(days=days), frames=0) for days in (800, 100))
    assert _pass(engine).sessions_deleted == 1
    with engine.connect() as conn:
        kept = set(conn.scalars(text("SELECT id FROM sessions")))
    assert recent in kept and old not in kept


def test_sessions_cannot_be_kept_shorter_than_their_frames(engine):
    with pytest.raises(ValueError, match="ECONSULT_SUMMARY_RETENTION_DAYS"):
        _pass(engine, raw_days=90, summary_days=30)


def test_the_sql_of_an_expired_session_is_the_python_one(engine):
    for days_ago in (89.9, 90.1):
        started = datetime.now(UTC) - timedelta(days=days_ago)
        with engine.connect() as conn:
            expired = conn.scalar(text(f"SELECT {raw_expired_sql('CAST(:at AS timestamptz)', 90)}"),
                                  {"at": started})
        assert expired == raw_expired(started, 90) == (days_ago > 90)
