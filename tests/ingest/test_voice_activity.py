"""The speech detector: a participant's speech becomes a segment where it was spoken; silence,
noise and the other person's voice leaking from their speakers do not."""

from __future__ import annotations

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
