"""The analysts' views give the numbers contracts.quality defines, and their role only reads."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pathlib import Path

import pytest
from sqlalchemy import insert, make_url, select, text
from sqlalchemy.exc import ProgrammingError

from contracts.consent import consent_state, consent_state_sql
from contracts.database import engine_for
from contracts.labels import EMOTIONS
from contracts.people import label_sql
from contracts.quality import positivity
from contracts.schema import EmotionEvent, Participant, Sample, Session

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# Three frames of the client: two faces read, one frame without a face.
FACES = [dict(zip(EMOTIONS, p, strict=True)) for p in (
    (0.1, 0.0, 0.1, 0.5, 0.2, 0.1, 0.0),
    (0.3, 0.1, 0.2, 0.0, 0.1, 0.3, 0.0),
)]


@pytest.fixture(scope="module")
def session_id(engine):
    """Ann is analysed (three frames: two faces read, one frame without her face); a second
    Ann and Cy gave consent and withdrew it, Dee declined, Dr Bob consults."""
    session_id, client, consultant = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    later = START + timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room="views", consultant="Dr Bob",
                                            source="room", started_at=START,
                                            ended_at=START + timedelta(minutes=5),
                                            end_reason="ended"))
        conn.execute(insert(Participant), [
            _person(session_id, "Ann", "client", START, START, id=client),
            _person(session_id, "Dr Bob", "consultant", START, None, id=consultant),
            *(_person(session_id, name, "client", later, later, withdrawn=later)
              for name in ("Ann", "Cy")),
            _person(session_id, "Dee", "client", later, None)])
        conn.execute(insert(Sample), [
            dict(session_id=session_id, participant_id=client, capture_id=client, seq=seq,
                 captured_at=START + timedelta(seconds=20 * seq), face_found=seq < 2,
                 head_yaw=(5.0, 50.0, None)[seq], head_pitch=(0.0, 0.0, None)[seq],
                 facing_screen=(True, False, None)[seq], others_in_view=int(seq == 0),
                 model_version="test") for seq in range(3)])
        conn.execute(insert(EmotionEvent), [
            dict(session_id=session_id, participant_id=client, capture_id=client, seq=seq,
                 captured_at=START + timedelta(seconds=20 * seq), box_x=0, box_y=0, box_w=10,
                 box_h=10, dominant=max(face, key=face.get), model_version="test", **face)
            for seq, face in enumerate(FACES)])
    return session_id


def _person(session_id, name, role, joined, consent, withdrawn=None, id=None) -> dict:
    return dict(id=id or uuid.uuid4(), session_id=session_id, role=role, display_name=name,
                joined_at=joined, consent_at=consent, consent_withdrawn_at=withdrawn)


def test_the_session_summary_gives_the_quality_score_of_contracts_quality(engine, session_id):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM session_summary WHERE session_id = :id"),
                           {"id": session_id}).mappings().one()
    expected = sum(positivity(face) for face in FACES) / len(FACES)
    assert row["quality"] == pytest.approx(expected, abs=1e-3)
    assert (row["frames"], row["faces"], row["end_reason"]) == (3, 2, "ended")
    assert row["face_presence"] == pytest.approx(2 / 3)
    assert row["facing_screen"] == pytest.approx(1 / 3)
    assert row["others_in_view"] == pytest.approx(1 / 3)
    assert row["happy_share"] == pytest.approx(0.5) and row["angry_share"] == pytest.approx(0.5)
    assert row["duration"] == timedelta(minutes=5)


def test_the_session_summary_counts_people_by_contracts_consent(engine, session_id):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM session_summary WHERE session_id = :id"),
                           {"id": session_id}).mappings().one()
        people = conn.execute(text("SELECT consent_at, consent_withdrawn_at FROM participants "
                                   "WHERE session_id = :id AND role <> 'consultant'"),
                              {"id": session_id}).all()
    states = Counter(consent_state(*person) for person in people)
    assert (row["participants"], row["analysed_participants"], row["withdrawn_participants"],
            row["declined_participants"]) == (
        4, states["given"] + states["withdrawn"], states["withdrawn"], states["declined"])
    assert states == {"given": 1, "withdrawn": 2, "declined": 1}


def test_the_participant_summary_keeps_two_people_of_one_name_apart(engine, session_id):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM participant_summary WHERE session_id = :id "
                                 "ORDER BY joined_at, label"), {"id": session_id}).mappings().all()
    assert [(r["label"], r["consent"]) for r in rows] == [
        ("Ann (1)", "given"), ("Dr Bob", "declined"), ("Ann (2)", "withdrawn"),
        ("Cy", "withdrawn"), ("Dee", "declined")]
    first = rows[0]
    assert (first["frames"], first["frames_missing"], first["faces"]) == (3, 0, 2)
    assert first["quality"] == pytest.approx(
        sum(positivity(face) for face in FACES) / len(FACES), abs=1e-3)


def test_frames_sampled_but_never_stored_are_counted_per_capture(engine, session_id):
    with engine.connect() as conn:
        ann = conn.scalar(text("SELECT participant_id FROM participant_summary "
                               "WHERE session_id = :id AND label = 'Ann (1)'"), {"id": session_id})
        second_capture = uuid.uuid4()
        conn.execute(insert(Sample), [  # numbers 0, 1 and 4 of a second capture: 2 and 3 lost
            dict(session_id=session_id, participant_id=ann, capture_id=second_capture, seq=seq,
                 captured_at=START + timedelta(minutes=2, seconds=seq), face_found=True,
                 others_in_view=0, model_version="test") for seq in (0, 1, 4)])
        row = conn.execute(text("SELECT frames, frames_missing, face_presence FROM "
                                "participant_summary WHERE participant_id = :id"),
                           {"id": ann}).one()
        conn.rollback()
    assert (row.frames, row.frames_missing) == (6, 2)
    assert row.face_presence == pytest.approx(5 / 6)


def test_the_views_read_consent_and_names_as_the_contracts_do():
    views = import_module("migrations.versions.0005_records_whole")
    assert consent_state_sql("p") == views.CONSENT_STATE
    assert label_sql("p") == views.LABEL


def test_the_minute_view_averages_each_participants_minute(engine, session_id):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM participant_minute WHERE session_id = :id "
                                 "ORDER BY minute"), {"id": session_id}).mappings().all()
    assert len(rows) == 1 and rows[0]["display_name"] == "Ann"
    assert (rows[0]["frames"], rows[0]["face_presence"]) == (3, pytest.approx(2 / 3))
    # Facing the screen: found and turned to it, as a share of all frames, as face presence is.
    assert rows[0]["facing_screen"] == pytest.approx(1 / 3)
    assert rows[0]["happy"] == pytest.approx(0.25)
    assert rows[0]["quality"] == pytest.approx(
        sum(positivity(face) for face in FACES) / len(FACES), abs=1e-3)


def test_the_analyst_role_reads_everything_and_changes_nothing(settings, session_id):
    url = make_url(settings.database_url).set(username="econsult_analyst", password=None)
    analyst = engine_for(url.render_as_string(hide_password=False))
    try:
        with analyst.connect() as conn:
            assert conn.scalar(select(Session.room).where(Session.id == session_id)) == "views"
            assert conn.scalar(text("SELECT count(*) FROM session_summary")) >= 1
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("DELETE FROM sessions"))
            conn.rollback()
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("SELECT password_hash FROM users"))
    finally:
        analyst.dispose()


def test_every_example_query_in_the_analysts_guide_runs(settings, session_id):
    guide = (Path(__file__).resolve().parents[2] / "docs" / "analysts.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", guide, re.S)
    assert len(queries) >= 3
    url = make_url(settings.database_url).set(username="econsult_analyst", password=None)
    analyst = engine_for(url.render_as_string(hide_password=False))
    try:
        with analyst.connect() as conn:
            for query in queries:
                conn.execute(text(query.replace("'…'", f"'{session_id}'"))).all()
    finally:
        analyst.dispose()
