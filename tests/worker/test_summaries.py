"""Session summaries kept current (worker/summaries.py): each session's row is its row of the
analysts' ``session_summary`` view with its speech measures (and each person's, theirs of
``participant_summary``), rewritten while the session runs or
after something more of it was stored, and without a person once they are erased."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, text, update

from contracts.labels import EMOTIONS
from contracts.schema import Participant, Session, SpeechSegment
from tests.support.processes import wait_for
from tests.support.readings import face
from tests.support.records import insert_frame
from tests.support.summaries import summarise
from worker.summaries import refresh_summaries

START = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)
SAD, HAPPY = face("sad", 0.8), face("happy", 0.8)


def _session(engine, clients: dict[str, dict[str, float]], ended: bool = True) -> uuid.UUID:
    """A consultation of Dr Sum with these clients, each showing one face 20 times; the doctor
    and the first client spoke in turns, the doctor cutting in once."""
    session_id, doctor = uuid.uuid4(), uuid.uuid4()
    people = {name: uuid.uuid4() for name in clients}
    first = next(iter(people.values()))
    with engine.begin() as conn:
        conn.execute(insert(Session).values(
            id=session_id, room=f"summary-{session_id.hex[:6]}", consultant="Dr Sum",
            source="room", started_at=START, ended_at=START + timedelta(minutes=1) if ended
            else None, end_reason="ended" if ended else None,
            # A running session was just seen: else a worker may close it as silent.
            last_seen_at=START + timedelta(minutes=1) if ended else func.now()))
        conn.execute(insert(Participant), [
            dict(id=doctor, session_id=session_id, role="consultant", display_name="Dr Sum",
                 joined_at=START, voice_consent_at=START),
            *(dict(id=pid, session_id=session_id, role="client", display_name=name,
                   joined_at=START, consent_at=START, voice_consent_at=START)
              for name, pid in people.items())])
        for name, pid in people.items():
            for seq in range(20):
                insert_frame(conn, session_id, pid, seq, START + timedelta(seconds=seq / 2),
                             clients[name])
        conn.execute(insert(SpeechSegment), [
            dict(session_id=session_id, participant_id=who, capture_id=who, seq=seq,
                 started_at=START + timedelta(seconds=begin),
                 ended_at=START + timedelta(seconds=end))
            for seq, (who, begin, end) in enumerate(
                [(doctor, 0, 10), (first, 11, 20), (doctor, 18, 30)])])
    return session_id


def _row(conn, table: str, session_id: uuid.UUID) -> dict:
    return dict(conn.execute(text(f"SELECT * FROM {table} WHERE session_id = :id"),
                             {"id": session_id}).mappings().one())


def test_a_sessions_summary_is_its_row_of_the_view_with_its_speech_measures(engine):
    session_id = _session(engine, {"Ann": HAPPY, "Bo": SAD})
    summarise(engine)
    with engine.connect() as conn:
        kept, view = _row(conn, "session_summaries", session_id), _row(
            conn, "session_summary", session_id)
        doctor_share = conn.scalar(text(
            "SELECT talk_share FROM speech_summary m JOIN participants p "
            "ON p.id = m.participant_id WHERE p.role = 'consultant' AND m.session_id = :id"),
            {"id": session_id})
    assert {name: kept[name] for name in view} == view
    assert kept["faces"] == 40 and kept["happy_share"] == 0.5
    with engine.connect() as conn:
        people = [dict(r) for r in conn.execute(text(
            "SELECT * FROM participant_summaries WHERE session_id = :id ORDER BY participant_id"),
            {"id": session_id}).mappings()]
        viewed = [dict(r) for r in conn.execute(text(
            "SELECT * FROM participant_summary WHERE session_id = :id ORDER BY participant_id"),
            {"id": session_id}).mappings()]
    assert [{name: row[name] for name in view_row} for row, view_row in
            zip(people, viewed, strict=True)] == viewed
    assert kept["voiced"] and kept["consultant_talk_share"] == doctor_share
    assert kept["clients_interrupted"] == 1


def test_frames_stored_later_are_counted_at_the_next_refresh_and_an_unchanged_row_stays(
        engine):
    session_id = _session(engine, {"Ann": HAPPY})
    summarise(engine)
    with engine.begin() as conn:
        written = _row(conn, "session_summaries", session_id)["summarised_at"]
    summarise(engine)
    with engine.begin() as conn:
        assert _row(conn, "session_summaries", session_id)["summarised_at"] == written
        ann = conn.scalar(text("SELECT id FROM participants WHERE session_id = :id "
                               "AND role = 'client'"), {"id": session_id})
        for seq in range(20, 40):
            insert_frame(conn, session_id, ann, seq, START + timedelta(seconds=seq / 2), SAD)
        conn.execute(update(Session).where(Session.id == session_id)
                     .values(last_seen_at=text("now()")))  # as a worker notes it
    summarise(engine)
    with engine.connect() as conn:
        kept = _row(conn, "session_summaries", session_id)
    assert (kept["faces"], kept["happy_share"], kept["sad_share"]) == (40, 0.5, 0.5)


def test_a_running_session_is_summarised_at_every_refresh(engine):
    session_id = _session(engine, {"Ann": HAPPY}, ended=False)
    summarise(engine)
    with engine.begin() as conn:
        first = _row(conn, "session_summaries", session_id)["summarised_at"]
    summarise(engine)
    with engine.begin() as conn:
        assert _row(conn, "session_summaries", session_id)["summarised_at"] > first


def test_an_erased_persons_session_is_summarised_without_them(engine, env):
    session_id = _session(engine, {"Ann": HAPPY, "Bo": SAD})
    summarise(engine)
    with engine.connect() as conn:
        bo = conn.scalar(text("SELECT id FROM participants WHERE session_id = :id "
                              "AND display_name = 'Bo'"), {"id": session_id})
    subprocess.run([sys.executable, "-m", "cli.main", "delete", "--participant", str(bo)],
                   env=env, check=True, capture_output=True, timeout=60)
    summarise(engine)  # a running worker may have been first
    with engine.connect() as conn:
        kept = _row(conn, "session_summaries", session_id)
    assert (kept["participants"], kept["faces"], kept["happy_share"]) == (1, 20, 1.0)
    assert {f"{name}_share" for name in EMOTIONS} <= kept.keys()


def test_one_worker_refreshes_at_a_time(engine):
    with engine.begin() as holder:
        assert refresh_summaries(holder) is not None
        with engine.begin() as other:
            assert refresh_summaries(other) is None


def test_a_running_worker_keeps_the_summaries_current(engine, worker):
    session_id = _session(engine, {"Ann": HAPPY})

    def summarised() -> bool:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT faces FROM session_summaries WHERE session_id = :id"),
                               {"id": session_id}) == 20
    wait_for(summarised, 30, "the worker to summarise the session")
