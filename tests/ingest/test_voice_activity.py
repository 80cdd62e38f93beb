"""The speech detector: a participant's speech, quiet or not, becomes a segment where it was
spoken; silence, noise and the other person's voice leaking from their speakers do not; it runs
beside TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.voice_activity import SAMPLE_RATE, SpeechDetector
from tests.support.voices import at_level, synthesize

SENTENCE = "Good morning. I would like to talk about the results of my last blood test."
CHUNK = 320  # 20 ms: what the browser's Opus frames decode to


def _segments(audio: np.ndarray) -> list[tuple[float, float]]:
    detector, updates = SpeechDetector(), []
    for at in range(0, len(audio), CHUNK):
        updates += detector.hear(audio[at:at + CHUNK], at / SAMPLE_RATE)
    closed = detector.close()
    return [(u.start, u.end) for u in [*updates, *([closed] if closed else [])] if not u.ongoing]


def _quiet(seconds: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(round(seconds * SAMPLE_RATE))
    return (noise * 32768 * 10 ** (-60 / 20)).astype(np.int16)  # a quiet room, -60 dBFS


def test_a_sentence_is_one_segment_where_it_was_spoken():
    speech = at_level(synthesize(SENTENCE), -26)
    audio = np.concatenate([_quiet(1.0), speech, _quiet(1.5)])
    spoken_s = len(speech) / SAMPLE_RATE
    [(start, end)] = _segments(audio)
    assert start == pytest.approx(1.0, abs=0.15)
    assert end == pytest.approx(1.0 + spoken_s, abs=0.3)


def test_silence_and_a_quiet_room_are_no_speech():
    assert _segments(np.zeros(5 * SAMPLE_RATE, np.int16)) == []
    assert _segments(_quiet(5.0)) == []


def test_the_other_persons_voice_leaking_in_20_db_below_is_not_their_speech():
    own = at_level(synthesize(SENTENCE), -26)
    leak = at_level(synthesize("Thank you. Let me look at your results now, they arrived "
                               "this morning and most of them look fine.", "en-gb+f2"), -46)
    audio = np.concatenate([_quiet(0.5), own, _quiet(1.0), leak + _quiet(len(leak) / SAMPLE_RATE,
                                                                          seed=1)])
    segments = _segments(audio)
    assert len(segments) == 1
    assert segments[0][1] < 0.5 + len(own) / SAMPLE_RATE + 0.5


def test_a_quiet_speaker_is_heard_whole():
    speech = at_level(synthesize(SENTENCE), -36)  # 10 dB below what browsers' gain aims at
    audio = np.concatenate([_quiet(1.0), speech, _quiet(1.0), speech, _quiet(1.0)])
    spoken_s = 2 * len(speech) / SAMPLE_RATE
    heard_s = sum(end - start for start, end in _segments(audio))
    assert heard_s == pytest.approx(spoken_s, abs=0.5)


def test_the_detector_runs_in_a_process_that_loaded_tensorflow():
    # Both ship an ONNX Runtime or protobuf of their own: a tool or test may load both.
    script = ("import tensorflow, numpy\n"
              "from ingest.voice_activity import VoiceActivity\n"
              "print(VoiceActivity().push(numpy.zeros(1024, numpy.int16)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[(False, 0, 512), (False, 512, 512)]"
