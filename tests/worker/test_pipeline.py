"""A recorded consultation goes through `econsult analyze`, the stream and a worker into
PostgreSQL, with the right session, participant, timestamps, order and emotions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sqlalchemy import select

from contracts.emotion_model import EmotionClassifier
from contracts.labels import EMOTIONS
from contracts.schema import EmotionEvent, Participant, Sample, Session
from contracts.stream import StreamKeys
from tests.conftest import CLIP_FACES
from training import data

SAMPLES_PER_FACE = 2  # 1 s per face, sampled at the default 2 fps


@pytest.fixture(scope="module")
def analysed(settings, engine, worker, fer_clip, env):
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(fer_clip.path), "--room", "pipeline",
         "--participant", "Alice", "--consultant", "Dr Bob"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        session = conn.execute(select(Session).where(Session.room == "pipeline")).one()
        participant = conn.execute(select(Participant)
                                   .where(Participant.session_id == session.id)).one()
        samples = conn.execute(select(Sample).where(Sample.session_id == session.id)
                               .order_by(Sample.seq)).all()
        events = conn.execute(select(EmotionEvent).where(EmotionEvent.session_id == session.id)
                              .order_by(EmotionEvent.seq)).all()
    return result, session, participant, samples, events


def test_the_session_and_participant_are_recorded_with_consent(analysed):
    _, session, participant, _, _ = analysed
    assert (session.consultant, session.source) == ("Dr Bob", "recording")
    assert session.ended_at is not None and session.ended_at >= session.started_at
    assert (participant.display_name, participant.role) == ("Alice", "client")
    assert participant.consent_at is not None and participant.left_at is not None


def test_every_sampled_frame_is_stored_once_in_capture_order(analysed):
    _, session, _, samples, _ = analysed
    assert [s.seq for s in samples] == list(range(CLIP_FACES * SAMPLES_PER_FACE))
    offsets = [(s.captured_at - session.started_at).total_seconds() for s in samples]
    assert offsets == pytest.approx([seq / 2 for seq in range(len(samples))], abs=0.002)
    # A recording is analysed faster than it plays: capture time is its offset in the video.
    assert all(s.stored_at >= session.started_at for s in samples)


def test_events_belong_to_their_samples(analysed):
    _, session, participant, samples, events = analysed
    by_seq = {s.seq: s for s in samples}
    assert events, "no face was found in any frame"
    for event in events:
        assert (event.session_id, event.participant_id) == (session.id, participant.id)
        assert event.captured_at == by_seq[event.seq].captured_at
        probabilities = [getattr(event, emotion) for emotion in EMOTIONS]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-3)
        assert getattr(event, event.dominant) == max(probabilities)
    faces_per_seq = {seq: sum(e.seq == seq for e in events) for seq in by_seq}
    assert all(by_seq[seq].face_found == (n == 1) for seq, n in faces_per_seq.items())


def test_each_face_found_has_its_head_pose_and_whether_it_faced_the_screen(analysed):
    _, _, _, samples, _ = analysed
    for sample in samples:
        pose = (sample.head_yaw, sample.head_pitch, sample.facing_screen)
        assert (None not in pose) if sample.face_found else pose == (None, None, None)
    # The clip's faces look straight out of the frame.
    assert np.mean([s.facing_screen for s in samples if s.face_found]) >= 0.9


def test_faces_are_found_in_most_frames(analysed):
    _, _, _, samples, _ = analysed
    assert np.mean([s.face_found for s in samples]) >= 0.7


def test_dominant_emotions_agree_with_labels_about_as_often_as_the_model(analysed, fer_clip,
                                                                         settings):
    _, _, _, _, events = analysed
    agreement = np.mean([e.dominant == EMOTIONS[fer_clip.label_at(e.seq / SAMPLES_PER_FACE)]
                         for e in events])
    faces = data.load(data.PUBLIC_TEST)
    direct = EmotionClassifier(settings.model_path).predict(faces.images[:CLIP_FACES]).argmax(1)
    model_accuracy = np.mean(direct == faces.labels[:CLIP_FACES])
    assert agreement >= model_accuracy - 0.2, (agreement, model_accuracy)


def test_the_summary_names_the_frames_and_the_models_limits(analysed):
    result, session, _, samples, _ = analysed
    assert f"{len(samples)} frames analysed" in result.stdout
    assert str(session.id) in result.stdout
    assert "not feelings" in result.stdout


def test_nothing_of_the_session_stays_in_redis_once_stored(analysed, redis_client, settings):
    _, session, _, _, _ = analysed
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    for stream in (keys.frames, keys.room_events):
        assert not [entry for entry, fields in redis_client.xrange(stream)
                    if fields.get(b"session") == str(session.id).encode()], stream
