"""`econsult analyze` measures when the person in a recording speaks, from its sound: never
what they say, and not at all with --no-voice or for a recording without sound."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from contracts.schema import Participant, Session, SpeechSegment
from tests.support.voices import RATE, at_level, synthesize

QUIET_S, GAP_S = 1.5, 2.0


@pytest.fixture(scope="module")
def speaking_clip(fer_clip, tmp_path_factory) -> tuple[Path, list[tuple[float, float]]]:
    """The FER clip with a sound track: quiet, a sentence, a pause, another; and the truth."""
    first = at_level(synthesize("Hello doctor. My knee has been hurting since last week."), -26)
    second = at_level(synthesize("It is worse in the morning."), -26)
    quiet = np.zeros(round(QUIET_S * RATE), np.int16)
    gap = np.zeros(round(GAP_S * RATE), np.int16)
    track = np.concatenate([quiet, first, gap, second, quiet])
    folder = tmp_path_factory.mktemp("speaking")
    with wave.open(str(folder / "speech.wav"), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(track.tobytes())
    clip = folder / "speaking.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(fer_clip.path), "-i",
                    str(folder / "speech.wav"), "-c:v", "copy", "-c:a", "aac", str(clip)],
                   check=True)
    first_end = QUIET_S + len(first) / RATE
    second_start = first_end + GAP_S
    return clip, [(QUIET_S, first_end), (second_start, second_start + len(second) / RATE)]


def _analyse(env, clip: Path, room: str, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(clip), "--room", room,
         "--participant", "Ann", *extra], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def _stored(engine, room: str) -> tuple[Participant, list[tuple[float, float]]]:
    with engine.connect() as conn:
        session = conn.execute(select(Session).where(Session.room == room)).one()
        person = conn.execute(select(Participant)
                              .where(Participant.session_id == session.id)).one()
        segments = [((s.started_at - session.started_at).total_seconds(),
                     (s.ended_at - session.started_at).total_seconds())
                    for s in conn.execute(select(SpeechSegment)
                                          .where(SpeechSegment.participant_id == person.id)
                                          .order_by(SpeechSegment.started_at))]
    return person, segments


def test_the_speech_in_a_recordings_sound_is_stored_where_it_was_spoken(
        engine, worker, env, speaking_clip):
    clip, truth = speaking_clip
    result = _analyse(env, clip, "analyze-speech")
    person, segments = _stored(engine, "analyze-speech")
    assert person.voice_consent_at is not None
    assert len(segments) == len(truth)
    for (start, end), (true_start, true_end) in zip(segments, truth, strict=True):
        assert start == pytest.approx(true_start, abs=0.2)
        assert end == pytest.approx(true_end, abs=0.4)
    assert "in 2 utterances" in result.stdout and "never what they said" in result.stdout


def test_with_no_voice_or_without_sound_nothing_of_the_voice_is_analysed(
        engine, worker, env, speaking_clip, fer_clip):
    refused = _analyse(env, speaking_clip[0], "analyze-no-voice", "--no-voice")
    person, segments = _stored(engine, "analyze-no-voice")
    assert (person.voice_consent_at, segments) == (None, [])
    assert "Speech not analysed: --no-voice." in refused.stdout
    silent = _analyse(env, fer_clip.path, "analyze-silent-film")
    assert "Speech not analysed: the recording has no sound." in silent.stdout
