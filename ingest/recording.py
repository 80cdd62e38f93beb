"""Reading a recorded consultation: anything FFmpeg decodes (mp4, webm, gif, …): its video's
frames for face analysis, its sound (when it has any) for voice analysis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import av
import numpy as np

from ingest.sampler import Sampler
from ingest.voice_activity import SAMPLE_RATE


class RecordingError(ValueError):
    """The file cannot be analysed; the message says why."""


@dataclass(frozen=True)
class Recording:
    path: Path
    duration_s: float | None
    fps: float | None
    has_sound: bool = False

    def estimated_samples(self, sample_fps: float) -> int | None:
        if self.duration_s is None:
            return None
        return max(1, int(self.duration_s * sample_fps))


def probe(path: Path) -> Recording:
    """Check that ``path`` is a video with at least one frame, before anything is published."""
    with _open(path) as container:
        stream = container.streams.video[0]
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        fps = float(stream.average_rate) if stream.average_rate else None
        if stream.frames and fps:
            # An index lost with the end of a file shortens the duration FFmpeg estimates; the
            # frame count in the header still says how long the video was meant to be.
            duration = max(duration or 0.0, stream.frames / fps)
        if next(_decoded(container, path), None) is None:
            raise RecordingError(f"{path} holds no video frames")
        has_sound = bool(container.streams.audio)
    return Recording(path, duration, fps, has_sound)


def sampled_frames(path: Path, sample_fps: float) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds from the start, BGR image) for the frames due at ``sample_fps``."""
    sampler = Sampler(sample_fps)
    with _open(path) as container:
        start = None
        for index, frame in enumerate(_decoded(container, path)):
            t = frame.time if frame.time is not None else index / (
                float(container.streams.video[0].average_rate or 25))
            start = t if start is None else start
            if sampler.take(t - start):
                yield t - start, frame.to_ndarray(format="bgr24")


def sound(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds from the start of the sound, 16 kHz mono int16 samples) of the recording's
    first audio track, as far as it can be decoded; nothing if it has none."""
    with _open(path) as container:
        if not container.streams.audio:
            return
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        heard = 0
        try:
            # None at the end: the resampler gives what it still holds.
            for frame in chain(container.decode(audio=0), [None]):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    yield heard / SAMPLE_RATE, samples
                    heard += len(samples)
        except av.error.FFmpegError as exc:
            raise RecordingError(f"{path} is damaged: its sound stops after "
                                 f"{heard / SAMPLE_RATE:.1f} s ({exc.strerror})") from None


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise RecordingError(f"{path} does not exist or is not a file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise RecordingError(f"{path} is not a video FFmpeg can read ({exc.strerror})") from None
    if not container.streams.video:
        container.close()
        raise RecordingError(f"{path} holds no video frames (it has no video stream)")
    return container


def _decoded(container: av.container.InputContainer, path: Path) -> Iterator[av.VideoFrame]:
    try:
        yield from container.decode(video=0)
    except av.error.FFmpegError as exc:
        raise RecordingError(f"{path} is damaged: decoding stopped ({exc.strerror})") from None
