"""Frame decisions become speech segments: short bursts and short pauses do not count, a long
utterance is reported as it grows."""

from __future__ import annotations

from ingest.speech_segments import MIN_SILENCE_S, MIN_SPEECH_S, UPDATE_S, Segmenter, SegmentUpdate

FRAME_S = 0.03


def _run(pattern: list[tuple[bool, float]]) -> list[SegmentUpdate]:
    """Feed runs of (speech?, seconds) as 30 ms frames; every update, then the close."""
    segmenter, at, updates = Segmenter(), 0.0, []
    for speech, seconds in pattern:
        for _ in range(round(seconds / FRAME_S)):
            updates += segmenter.push(speech, at, at + FRAME_S)
            at += FRAME_S
    closed = segmenter.close()
    return updates + ([closed] if closed else [])


def _final(updates: list[SegmentUpdate]) -> list[tuple[float, float]]:
    return [(round(u.start, 2), round(u.end, 2)) for u in updates if not u.ongoing]


def test_speech_shorter_than_the_minimum_is_no_segment():
    assert _run([(False, 1), (True, MIN_SPEECH_S - 2 * FRAME_S), (False, 2)]) == []


def test_a_pause_shorter_than_the_minimum_silence_does_not_split_an_utterance():
    updates = _run([(False, 0.99), (True, 2.01), (False, MIN_SILENCE_S - 0.09), (True, 0.99),
                    (False, 1.5)])
    assert _final(updates) == [(0.99, 4.41)]


def test_a_long_pause_ends_the_segment_where_speech_stopped():
    updates = _run([(True, 0.99), (False, 1.5), (True, 0.99), (False, 1.5)])
    assert _final(updates) == [(0.0, 0.99), (2.49, 3.48)]
    assert [u.seq for u in updates if not u.ongoing] == [0, 1]


def test_a_long_utterance_is_reported_as_it_grows_about_once_a_second():
    updates = _run([(True, 10.02), (False, 1)])
    growing = [u for u in updates if u.ongoing]
    assert round(growing[0].end - growing[0].start, 2) == MIN_SPEECH_S + 0.02  # onset, at once
    assert 8 <= len(growing) <= 10 / UPDATE_S + 1
    assert {u.seq for u in updates} == {0}


def test_frames_that_stop_coming_end_the_segment_where_they_stopped():
    segmenter = Segmenter()
    for i in range(30):
        segmenter.push(True, i * FRAME_S, (i + 1) * FRAME_S)
    after_gap = segmenter.push(True, 5.0, 5.03)
    assert [(u.seq, round(u.end, 2), u.ongoing) for u in after_gap] == [(0, 0.9, False)]
    assert segmenter.speaking is False  # the new burst has not lasted long enough yet
