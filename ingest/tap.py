"""Taking frames off a participant's analysis track without ever stalling the call.

aiortc queues every decoded frame of a received track without bound, so the reader drains the
track continuously. A frame that arrives when a sample is due (ingest/sampler.py, on the time
it arrived) is taken as it comes, so that none waits for a tick of a clock, and published;
while a publish is still under way, while the workers are further behind than the lag budget,
or while Redis is out of reach, a sample is dropped and counted rather than queued. Each tap is
one capture (contracts/stream.py): its frames are numbered from 0 with every sample it tries to
publish, so a number is never given to two frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from contracts.frames import Frame
from ingest.encoding import encode_video_frame
from ingest.metrics import METRICS
from ingest.sampler import Sampler

log = logging.getLogger("econsult.ingest")
Publish = Callable[[Frame], Awaitable[bool]]
LagCheck = Callable[[], Awaitable[bool]]


class FrameTap:
    def __init__(self, track: MediaStreamTrack, session_id: uuid.UUID,
                 participant_id: uuid.UUID, publish: Publish, over_budget: LagCheck,
                 sample_fps: float, silence_s: float, jpeg_quality: int, max_width: int) -> None:
        self.track = track
        self.session_id, self.participant_id = session_id, participant_id
        self.capture_id = uuid.uuid4()
        self._publish, self._over_budget = publish, over_budget
        self._sampler, self._silence_s = Sampler(sample_fps), silence_s
        self._jpeg = (max_width, jpeg_quality)
        self._seq = 0
        self._busy = False
        self._tasks: list[asyncio.Task] = []
        self._sending: asyncio.Task | None = None
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._read())]

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._sending] if self._sending else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.closed.set()

    async def _read(self) -> None:
        try:
            while True:
                # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives as
                # recv() completes, and stop() would then wait on this loop forever.
                async with asyncio.timeout(self._silence_s):
                    frame = await self.track.recv()
                METRICS.frames_received.inc()
                if self._sampler.take(time.monotonic()):
                    self._sample(frame, datetime.now(UTC))
        except TimeoutError:
            log.info("analysis track of %s silent for %.0f s; closing it", self.participant_id,
                     self._silence_s)
        except MediaStreamError:
            pass  # the browser stopped sending
        self.closed.set()

    def _sample(self, frame: VideoFrame, captured: datetime) -> None:
        METRICS.frames_sampled.inc()
        if self._busy:
            METRICS.frames_dropped.inc()
            return
        self._busy = True
        self._sending = asyncio.create_task(self._send(frame, captured))

    async def _send(self, frame: VideoFrame, captured: datetime) -> None:
        try:
            if await self._over_budget():
                METRICS.frames_dropped.inc()
                return
            seq, self._seq = self._seq, self._seq + 1
            started = time.perf_counter()
            # On the event loop: 0.2 ms a sample, where handing it to a thread cost the threads
            # of a class more than the encoding (`econsult bench class`).
            jpeg = encode_video_frame(frame, *self._jpeg)
            METRICS.encode_seconds.observe(time.perf_counter() - started)
            published = await self._publish(Frame(self.session_id, self.participant_id,
                                                  self.capture_id, seq, captured, jpeg))
            (METRICS.frames_published if published else METRICS.frames_dropped).inc()
        except Exception:
            METRICS.frames_dropped.inc()
            log.exception("could not publish a frame of %s", self.participant_id)
        finally:
            self._busy = False

