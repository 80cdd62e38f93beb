"""The live reading people are shown: a participant's expressions averaged over the last
seconds, a leading expression that changes only when another leads clearly for long enough, and
"unclear: A or B" when the model is not sure; the same in the room (Python) as in the live
dashboard, reports and the analysts' view (SQL)."""

from __future__ import annotations

import random
from datetime import timedelta
from importlib import import_module

import numpy as np
import pytest
from sqlalchemy import text

from contracts.labels import EMOTIONS
from contracts.smoothing import LiveReading, leading, readings_sql
from tests.support.readings import START, face, store_faces


def _shown(faces: list[dict[str, float]], start: float = 0.0,
           reading: LiveReading | None = None) -> list[str]:
    """What is shown at each of ``faces``, sampled two a second as the room samples them."""
    reading = reading or LiveReading()
    return [reading.add(f, start + at / 2).words() for at, f in enumerate(faces)]


def test_a_clear_face_is_shown_from_its_first_frame():
    assert _shown([face("happy")]) == ["happy"]


def test_one_frame_read_otherwise_does_not_change_the_leading_expression():
    shown = _shown([face("happy")] * 10 + [face("angry", 0.9)] + [face("happy")] * 4)
    assert set(shown) == {"happy"}


def test_a_lasting_change_is_shown_within_one_and_a_half_seconds():
    reading = LiveReading()
    _shown([face("neutral")] * 10, reading=reading)
    after = _shown([face("surprise")] * 6, start=5, reading=reading)
    assert after[3:] == ["surprise"] * 3  # from 1.5 s after the change on


def test_a_face_between_two_expressions_is_shown_as_unclear_naming_both():
    """The measured case: a face read 44% surprise and 40% fear, the two swapping places."""
    faces = [face("surprise", 0.44, "fear", 0.40) if at % 3 else face("fear", 0.44,
             "surprise", 0.40) for at in range(40)]
    shown = _shown(faces)
    assert set(shown) <= {"unclear: surprise or fear", "unclear: fear or surprise"}


def test_the_leading_expression_holds_while_the_face_is_unclear():
    reading = LiveReading()
    _shown([face("happy", 0.8)] * 6, reading=reading)
    doubtful = [reading.add(face("happy", 0.45, "neutral", 0.4), 3 + at / 2)
                for at in range(10)]
    assert all(r.unclear and r.leading == "happy" for r in doubtful[4:])


def test_another_expression_must_lead_clearly_for_half_a_second_to_take_over():
    reading = LiveReading()
    _shown([face("neutral", 0.8)] * 8, reading=reading)
    # Sad leads the mean by a little, never by the clear margin: neutral stays the leader.
    shown = [reading.add(face("sad", 0.46, "neutral", 0.40), 4 + at / 2) for at in range(20)]
    assert {r.leading for r in shown} == {"neutral"}
    assert shown[-1].words() == "unclear: sad or neutral"


def test_nothing_held_for_thirty_seconds_leaves_no_leading_expression():
    reading = LiveReading()
    _shown([face("happy", 0.8)] * 4, reading=reading)
    shown = [reading.add(face("sad", 0.42, "fear", 0.40), 2 + at / 2) for at in range(70)]
    assert shown[0].leading == "happy"
    assert shown[-1].leading is None and shown[-1].unclear


def test_frames_stored_out_of_order_give_the_reading_of_the_ordered_frames():
    rng = random.Random(4)
    frames = [(at / 2, face(rng.choice(EMOTIONS), rng.uniform(0.3, 0.9))) for at in range(40)]
    in_order, shuffled = LiveReading(), LiveReading()
    for at, probabilities in frames:
        expected = in_order.add(probabilities, at)
    late = frames[:30] + rng.sample(frames[30:], 10)  # the last few stored out of order
    for at, probabilities in late:
        got = shuffled.add(probabilities, at)
    assert got.probabilities == pytest.approx(expected.probabilities)
    assert (got.leading, got.unclear, got.words()) == (expected.leading, expected.unclear,
                                                      expected.words())


def test_a_tie_goes_to_the_first_expression_in_order():
    tied = {name: 0.0 for name in EMOTIONS} | {"sad": 0.5, "fear": 0.5}
    assert leading(tied) == "fear"


def test_the_sql_reading_is_the_python_reading(engine):
    rng = random.Random(3)
    # Runs of one expression, of doubtful faces and of noise; irregular capture times.
    faces, times, at = [], [], START
    for _ in range(12):
        kind, leader, other = rng.random(), rng.choice(EMOTIONS), rng.choice(EMOTIONS)
        for _ in range(rng.randint(2, 14)):
            at += timedelta(seconds=rng.choice([0.5, 0.5, 0.5, rng.uniform(0.1, 3.0)]))
            times.append(at)
            faces.append(face(leader, 0.7) if kind < 0.4 else
                         face(leader, 0.4, other, 0.35) if kind < 0.7 and other != leader else
                         face(rng.choice(EMOTIONS), rng.uniform(0.2, 0.9)))
    # As stored: emotion_events keep 4-byte floats.
    faces = [{name: float(np.float32(p)) for name, p in f.items()} for f in faces]
    session_id = store_faces(engine, faces, times)
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT * FROM emotion_readings WHERE session_id = :id ORDER BY captured_at"),
            {"id": session_id}).mappings().all()
    reading = LiveReading()
    python = [reading.add(f, at.timestamp()) for at, f in zip(times, faces, strict=True)]
    assert len({r.words() for r in python}) > 4 and any(r.unclear for r in python)
    for row, shown in zip(rows, python, strict=True):
        assert {x: row[x] for x in EMOTIONS} == pytest.approx(shown.probabilities, abs=1e-9)
        assert (row["top_expression"], row["second_expression"]) == (shown.top, shown.second)
        assert row["margin"] == pytest.approx(shown.margin, abs=1e-9)
        assert (row["leading_expression"], row["unclear"], row["shown"]) == (
            shown.leading, shown.unclear, shown.words())


def test_the_view_reads_as_the_contract_does():
    views = import_module("migrations.versions.0010_steady_and_personal_readings")
    assert " ".join(views.READINGS.split()) == " ".join(readings_sql("{events}").split())
