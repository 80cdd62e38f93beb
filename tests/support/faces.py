"""FER faces as a participant's camera sends them, for aiortc clients of the room (tests and the
benchmark): framed and sized as ingest analyses them, and paced at a frame rate."""

from __future__ import annotations

import asyncio
import fractions
import time

import numpy as np
from aiortc import VideoStreamTrack
from av import VideoFrame

from training import data
from training.fer_clips import framed_face

ANALYSIS_SIZE = (320, 240)


class PacedFaces(VideoStreamTrack):
    """FER faces, one per second, sent at ``fps`` (decoded once: no per-frame decode cost)."""

    def __init__(self, faces: list[np.ndarray], fps: float) -> None:
        super().__init__()
        self._frames = faces
        self._interval = 1 / fps
        self._started: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        self._started = self._started or time.monotonic()
        due = self._started + self._count * self._interval
        await asyncio.sleep(max(0.0, due - time.monotonic()))  # pacing the stream
        image = self._frames[int(self._count * self._interval) % len(self._frames)]
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = round(self._count * self._interval * 90_000)
        frame.time_base = fractions.Fraction(1, 90_000)
        self._count += 1
        return frame


def faces_for_load() -> list[np.ndarray]:
    import cv2

    images = data.load(data.PUBLIC_TEST).images[:30]
    return [cv2.resize(framed_face(image), ANALYSIS_SIZE) for image in images]
