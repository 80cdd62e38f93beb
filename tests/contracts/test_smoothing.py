"""The live reading people are shown: a participant's expressions averaged over the last three
seconds, the same in the room (Python) as in the live dashboard and reports (SQL)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from contracts.labels import EMOTIONS
from contracts.schema import EmotionEvent, Participant, Session
from contracts.smoothing import WINDOW_S, LiveReading, leading, leading_sql, smoothed_sql

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _reading(leader: str, strength: float = 0.6) -> dict[str, float]:
    rest = (1 - strength) / (len(EMOTIONS) - 1)
    return {name: strength if name == leader else rest for name in EMOTIONS}


def test_one_frame_read_otherwise_does_not_change_the_leading_expression():
    reading = LiveReading()
    shown = [leading(reading.add(_reading("happy"), at / 2)) for at in range(10)]
    shown.append(leading(reading.add(_reading("angry", 0.9), 5.0)))
    assert set(shown) == {"happy"}


def test_a_lasting_change_leads_within_two_seconds_at_the_live_sampling_rate():
    reading = LiveReading()
    for at in range(10):
        reading.add(_reading("neutral"), at / 2)
    after = [leading(reading.add(_reading("surprise"), 5 + at / 2)) for at in range(1, 5)]
    assert after[-1] == "surprise"  # 2 s after the change
    assert after.index("surprise") <= 3


def test_frames_stored_out_of_order_give_the_reading_of_the_ordered_frames():
    frames = [(at / 2, _reading(random.Random(at).choice(EMOTIONS))) for at in range(12)]
    in_order, shuffled = LiveReading(), LiveReading()
    for at, probabilities in frames:
        expected = in_order.add(probabilities, at)
    for at, probabilities in random.Random(1).sample(frames, len(frames)):
        got = shuffled.add(probabilities, at)
    assert got == pytest.approx(expected)


def test_a_tie_goes_to_the_first_expression_in_order():
    tied = {name: 0.0 for name in EMOTIONS} | {"sad": 0.5, "fear": 0.5}
    assert leading(tied) == "fear"


def test_the_sql_reading_is_the_python_reading(engine):
    session_id, person = uuid.uuid4(), uuid.uuid4()
    rng = random.Random(3)
    # Irregular capture times, some closer than the window and some farther apart.
    gaps = [rng.uniform(0.2, 2.0) for _ in range(30)]
    times = [START + timedelta(seconds=sum(gaps[:i])) for i in range(30)]
    faces = [_reading(rng.choice(EMOTIONS), rng.uniform(0.3, 0.9)) for _ in times]
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room="smoothing", source="room",
                                            started_at=START))
        conn.execute(insert(Participant).values(id=person, session_id=session_id, role="client",
                                                display_name="Ann", joined_at=START,
                                                consent_at=START))
        conn.execute(insert(EmotionEvent), [
            dict(session_id=session_id, participant_id=person, capture_id=person, seq=seq,
                 captured_at=at, box_x=0, box_y=0, box_w=10, box_h=10, model_version="test",
                 dominant=leading(face), **face)
            for seq, (at, face) in enumerate(zip(times, faces, strict=True))])
        rows = conn.execute(text(
            "SELECT * FROM emotion_readings WHERE session_id = :id ORDER BY captured_at"),
            {"id": session_id}).mappings().all()
        direct = conn.execute(text(
            f"SELECT {', '.join(f'{smoothed_sql(x)} AS {x}' for x in EMOTIONS)} "
            "FROM emotion_events e WHERE e.session_id = :id ORDER BY e.captured_at"),
            {"id": session_id}).mappings().all()
        leaders = conn.execute(text(
            f"SELECT {leading_sql('r')} AS leader FROM emotion_readings r "
            "WHERE r.session_id = :id ORDER BY r.captured_at"), {"id": session_id}).scalars()
    reading = LiveReading()
    for row, sql, leader, at, face in zip(rows, direct, leaders, times, faces, strict=True):
        python = reading.add(face, at.timestamp())
        assert {x: row[x] for x in EMOTIONS} == pytest.approx(python, abs=1e-6)
        assert {x: sql[x] for x in EMOTIONS} == pytest.approx(python, abs=1e-6)
        assert row["leading_expression"] == leader == leading(python)


def test_the_view_smooths_as_the_contract_does():
    from importlib import import_module

    views = import_module("migrations.versions.0006_readings_and_attention")
    assert leading_sql("r") == views.LEADING
    assert views._smoothed("happy") == smoothed_sql("happy")
    assert f"interval '{WINDOW_S} seconds'" in smoothed_sql("happy")
