"""`econsult analyze` returns only once the workers have stored the end of the session, so
whoever reads the database after it (its summary, an analyst, a script) finds it closed."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select, text

from contracts.schema import Participant
from tests.support.processes import wait_for
from tests.support.records import participant_named, session_in

ROOM = "closing"
# Long enough that an analysis which did not wait for the end would have finished in it.
STILL_WAITING_S = 3


def _blocked_on_the_participant(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE participants%'")))


def test_analyze_returns_once_the_session_end_is_stored(worker, fer_clip, env, engine):
    analysis = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "analyze", str(fer_clip.path), "--room", ROOM,
         "--participant", "Ann"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        person = participant_named(engine, ROOM, "Ann")
        with engine.connect() as holder:
            # Frames still go in (they only share the row's key); the participant's leaving,
            # stored with the session's end, waits for this lock.
            holder.execute(select(Participant.id).where(Participant.id == person.id)
                           .with_for_update(key_share=True))  # FOR NO KEY UPDATE
            wait_for(lambda: _blocked_on_the_participant(engine), 120,
                     "the worker to reach the participant's leaving")
            with pytest.raises(subprocess.TimeoutExpired):
                analysis.wait(timeout=STILL_WAITING_S)
            holder.rollback()
        _, stderr = analysis.communicate(timeout=120)
        assert analysis.returncode == 0, stderr
    finally:
        analysis.kill()
    session = session_in(engine, ROOM)
    assert session.ended_at is not None and session.end_reason == "ended"
