"""The personal reading: each face compared with the same person's usual face, so that a resting
face the model reads as sad is their neutral and a faint smile is a smile; the same in the room
(Python) as in the dashboard and the analysts' view (SQL)."""

from __future__ import annotations

import random
from datetime import timedelta
from importlib import import_module

import numpy as np
import pytest
from sqlalchemy import text

from contracts.baseline import MIN_FRAMES, USUAL_S, UsualFace, personal_sql
from contracts.labels import EMOTIONS
from contracts.smoothing import LiveReading, leading
from tests.support.readings import START, face, store_faces

# A resting face the model reads as sad, and the same face smiling a little: still mostly sad
# and neutral to the model.
RESTING = face("sad", 0.55, "neutral", 0.35)
FAINT_SMILE = face("sad", 0.40, "neutral", 0.35) | {"happy": 0.2, "angry": 0.01,
                                                      "disgust": 0.01, "fear": 0.01,
                                                      "surprise": 0.02}


def _personal(faces: list[dict[str, float]]) -> list[dict[str, float] | None]:
    usual = UsualFace()
    return [usual.add(f, at / 2) for at, f in enumerate(faces)]


def test_there_is_no_personal_reading_before_the_persons_usual_face_is_known():
    personal = _personal([RESTING] * (MIN_FRAMES + 1))
    assert personal[:MIN_FRAMES] == [None] * MIN_FRAMES
    assert personal[MIN_FRAMES] is not None


def test_a_resting_face_read_as_sad_is_this_persons_neutral():
    personal = _personal([RESTING] * 40)
    assert leading(RESTING) == "sad"
    assert all(leading(p) == "neutral" for p in personal[MIN_FRAMES:])


def test_a_faint_smile_reads_as_happy_compared_with_the_usual_face():
    personal = _personal([RESTING] * 30 + [FAINT_SMILE, RESTING] * 5)
    assert leading(FAINT_SMILE) == "sad"
    assert [leading(p) for p in personal[30:]] == ["happy", "neutral"] * 5


def test_the_stored_probabilities_are_not_changed():
    face = dict(RESTING)
    _personal([face] * 30)
    assert face == RESTING


def test_the_sql_personal_reading_is_the_python_one(engine):
    rng = random.Random(5)
    faces = [{name: float(np.float32(p)) for name, p in (
        FAINT_SMILE if rng.random() < 0.2 else face(rng.choice(("sad", "neutral")),
                                                     rng.uniform(0.4, 0.7))).items()}
             for _ in range(80)]
    times = [START + timedelta(seconds=at / 2 + rng.uniform(0, 0.2)) for at in range(80)]
    session_id = store_faces(engine, faces, times)
    with engine.begin() as conn:
        direct = conn.execute(text(
            f"SELECT * FROM ({personal_sql('SELECT * FROM emotion_events')}) p "
            "WHERE session_id = :id ORDER BY captured_at"), {"id": session_id}).mappings().all()
        viewed = conn.execute(text(
            "SELECT * FROM personal_readings WHERE session_id = :id ORDER BY captured_at"),
            {"id": session_id}).mappings().all()
    usual, reading, expected = UsualFace(), LiveReading(), []
    for at, probabilities in zip(times, faces, strict=True):
        personal = usual.add(probabilities, at.timestamp())
        if personal is not None:
            expected.append((personal, reading.add(personal, at.timestamp())))
    assert len(direct) == len(viewed) == len(expected) == 80 - MIN_FRAMES
    for row, view, (personal, shown) in zip(direct, viewed, expected, strict=True):
        assert {x: row[x] for x in EMOTIONS} == pytest.approx(personal, abs=1e-9)
        assert {x: view[x] for x in EMOTIONS} == pytest.approx(shown.probabilities, abs=1e-9)
        assert (view["leading_expression"], view["shown"]) == (shown.leading, shown.words())


def test_the_view_compares_as_the_contract_does():
    views = import_module("migrations.versions.0010_steady_and_personal_readings")
    assert " ".join(views.PERSONAL.split()) == " ".join(personal_sql("{events}").split())


def test_hours_of_frames_leave_the_usual_face_as_exact_as_the_last_five_minutes_alone():
    rng = random.Random(7)
    frames = [(at * 0.5, dict(zip(EMOTIONS, (rng.random() for _ in EMOTIONS), strict=True)))
              for at in range(2 * 3600 * 2)]  # two hours, two frames a second
    whole, recent = UsualFace(), UsualFace()
    for at, probabilities in frames:
        last = whole.add(probabilities, at)
    newest = frames[-1][0]
    for at, probabilities in frames:
        if at >= newest - USUAL_S:
            alone = recent.add(probabilities, at)
    assert last == alone


@pytest.mark.parametrize("late_s", [0.5, 40.0])
def test_a_frame_stored_late_is_compared_with_the_frames_captured_before_it(late_s):
    # Two workers store a person's frames a little out of capture order, and one that stalls
    # stores its frames later still: a late frame's usual face is that of the frames captured in
    # the five minutes before it, whatever was stored before it, as in SQL.
    rng = random.Random(11)
    times = [at * 0.5 for at in range(2 * 60 * 8)]  # eight minutes, two frames a second
    faces = [dict(zip(EMOTIONS, (rng.random() for _ in EMOTIONS), strict=True)) for _ in times]
    late = set(range(3, len(times), 7))
    stored = sorted(range(len(times)), key=lambda i: times[i] + (late_s + 0.1) * (i in late))
    usual = UsualFace()
    for i in stored:
        personal = usual.add(faces[i], times[i])
        if i in late:
            in_order = UsualFace()
            for before in range(i):
                if times[before] >= times[i] - USUAL_S:
                    in_order.add(faces[before], times[before])
            assert personal == in_order.add(faces[i], times[i])
