"""The lasting-negativity alert: a client's faces read negative on average for most of the alert
window, the same in the consultant's room (Python) as in the live dashboard (SQL)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from contracts.alert import AlertRule, RecentFaces, negativity
from contracts.labels import EMOTIONS
from contracts.schema import Participant, Session
from tests.support.records import insert_frame

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
RULE = AlertRule(negative=0.6, seconds=30.0)
SAD = dict(zip(EMOTIONS, (0.1, 0.0, 0.1, 0.0, 0.1, 0.7, 0.0), strict=True))  # 0.9 negative
HAPPY = dict(zip(EMOTIONS, (0.0, 0.0, 0.0, 0.8, 0.2, 0.0, 0.0), strict=True))  # 0 negative


def _faces(face: dict[str, float], start: float, end: float) -> list[tuple[float, float]]:
    """Two faces a second, as the room samples them, from ``start`` to before ``end``."""
    return [(start + i / 2, negativity(face)) for i in range(round(2 * (end - start)))]


def test_faces_read_negative_for_the_whole_window_raise_the_alert_with_how_long():
    faces = _faces(SAD, 0, 60)
    assert RULE.lasting(faces, 60) == pytest.approx(29.5)


def test_negative_faces_over_less_than_most_of_the_window_raise_nothing():
    """Back in view 20 s ago, after a long absence: 20 s of sadness is not yet lasting."""
    faces = _faces(HAPPY, 0, 10) + _faces(SAD, 40, 60)
    assert RULE.lasting(faces, 60) is None
    assert RULE.lasting(faces + _faces(SAD, 60, 65), 65) == pytest.approx(25)


def test_the_alert_ends_once_the_windows_mean_falls_below_the_threshold():
    faces = _faces(SAD, 0, 60) + _faces(HAPPY, 60, 80)
    shown = {at: RULE.lasting(faces, at) for at in range(60, 80)}
    # The mean is 0.9 × the share of sad faces: at least 0.6 while under 10 of the last 30 s
    # are happy.
    assert all(shown[at] is not None for at in range(60, 70))
    assert all(shown[at] is None for at in range(70, 80))


def test_faces_stored_out_of_order_give_the_alert_of_the_ordered_faces():
    rng = random.Random(2)
    frames = [(at / 2, SAD if rng.random() < 0.8 else HAPPY) for at in range(100)]
    in_order, shuffled = RecentFaces(RULE), RecentFaces(RULE)
    for at, face in frames:
        in_order.add(face, at)
    for at, face in rng.sample(frames, len(frames)):
        shuffled.add(face, at)
    assert shuffled.faces == in_order.faces
    assert shuffled.lasting(50) == in_order.lasting(50) == pytest.approx(29.5)


def test_the_sql_alert_is_the_python_alert(engine):
    """Three clients' faces, more or less negative, at irregular times with absences; the alert
    asked of both at moments all along."""
    session_id, rng = uuid.uuid4(), random.Random(7)
    people = {uuid.uuid4(): share for share in (0.6, 0.75, 0.9)}  # of faces read sad
    faces = {person: _irregular(rng, share) for person, share in people.items()}
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room="alert", source="room",
                                            started_at=START))
        conn.execute(insert(Participant), [
            dict(id=person, session_id=session_id, role="client", display_name="Ann",
                 joined_at=START, consent_at=START) for person in people])
        for person, own in faces.items():
            for seq, (at, face) in enumerate(own):
                insert_frame(conn, session_id, person, seq, START + timedelta(seconds=at), face)
        query = text(RULE.sql("SELECT * FROM emotion_events WHERE session_id = :id",
                              now="CAST(:now AS timestamptz)"))
        moments = [i * 1.3 for i in range(1, 150)]
        in_sql = [dict(conn.execute(query, {"id": session_id, "now": START + timedelta(
            seconds=now)}).all()) for now in moments]
    shown = 0
    for now, sql in zip(moments, in_sql, strict=True):
        for person, own in faces.items():
            python = RULE.lasting([(at, negativity(face)) for at, face in own], now)
            assert sql.get(person) == pytest.approx(python, abs=1e-6), (person, now)
            shown += python is not None
    assert 0 < shown < len(moments) * len(people)  # the alert both held and did not


def _irregular(rng: random.Random, sad_share: float) -> list[tuple[float, dict[str, float]]]:
    """Faces 0.2 to 1 s apart for 200 s, gone from view for 10 to 25 s now and then, each read
    sad (0.6 to 1 negative) or calm (up to 0.3): no mean falls exactly on the threshold."""
    faces, at = [], 0.0
    while at < 200:
        at += rng.uniform(10, 25) if rng.random() < 0.02 else rng.uniform(0.2, 1.0)
        sad = rng.uniform(0.6, 1.0) if rng.random() < sad_share else rng.uniform(0.0, 0.3)
        face = {name: 0.0 for name in EMOTIONS} | {"sad": sad, "neutral": 1 - sad}
        faces.append((round(at, 3), face))
    return faces
