"""Sampling takes evenly spaced frames at the configured rate, whatever the source's rate."""

import pytest

from ingest.sampler import Sampler


def _taken(fps: float, source_fps: float, seconds: float) -> list[float]:
    sampler = Sampler(fps)
    times = [i / source_fps for i in range(round(seconds * source_fps))]
    return [t for t in times if sampler.take(t)]


def test_a_30_fps_video_sampled_at_5_fps_gives_one_frame_in_six():
    assert _taken(5, 30, 2) == pytest.approx([i / 5 for i in range(10)])


def test_a_source_slower_than_the_rate_gives_every_frame():
    assert len(_taken(5, 2, 3)) == 6


def test_after_a_gap_sampling_resumes_without_a_burst():
    sampler = Sampler(2)
    taken = [t for t in (0.0, 0.5, 1.0, 5.0, 5.1, 5.2, 5.5, 6.0) if sampler.take(t)]
    assert taken == [0.0, 0.5, 1.0, 5.0, 5.5, 6.0]


def _jittered(source_fps: float, seconds: float, jitter_s: float) -> list[float]:
    """Arrival times of a source's frames, each late or early by up to ``jitter_s``."""
    pattern = (0.0, 1.0, -1.0, 0.5, -0.5)
    return [i / source_fps + jitter_s * pattern[i % len(pattern)]
            for i in range(round(seconds * source_fps))]


def test_a_source_at_the_rate_gives_every_frame_however_unevenly_they_arrive():
    sampler = Sampler(2)
    arrivals = _jittered(2, 30, 0.04)
    assert [t for t in arrivals if sampler.take(t)] == arrivals


@pytest.mark.parametrize("source_fps", [2.5, 3, 4, 30])
def test_unevenly_arriving_frames_never_give_more_than_the_rate(source_fps):
    sampler = Sampler(2)
    taken = [t for t in _jittered(source_fps, 60, 0.4 / source_fps) if sampler.take(t)]
    assert 2 * 60 - 2 <= len(taken) <= 2 * 60 + 1


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError, match="must be positive"):
        Sampler(0)
