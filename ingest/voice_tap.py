"""Reducing a participant's audio track to when they speak, without keeping a sound.

The SFU relays the microphone of someone who agreed to voice analysis to a connection of
ingest's own; aiortc decodes its Opus to 48 kHz frames. Each frame is taken down to 16 kHz mono,
reduced by the speech detector (ingest/voice_activity.py) to speech segments and dropped: no
sample is kept beyond the detector's one frame, nothing is written anywhere. The segments go on
the stream as ``speech`` room events and to the room's live view (ingest/talk.py). Each tap is
one capture: its segments are numbered from 0, so a segment announced again as it grows is one
segment.

Times are the wall clock when the audio arrived, kept on the sample count between frames so
that network jitter does not stretch or squeeze speech; a gap in the audio (a muted or stalled
sender) starts the count again from the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, AudioResampler

from contracts.room_events import RoomEvent
from ingest.rooms import Member, Room
from ingest.speech_segments import SegmentUpdate
from ingest.talk import Talk
from ingest.voice_activity import SAMPLE_RATE, SpeechDetector

log = logging.getLogger("econsult.ingest")
# Beyond this between the sample count and the clock, the audio stalled: go by the clock again.
RESYNC_S = 0.5


class VoiceTap:
    def __init__(self, track: MediaStreamTrack, room: Room, member: Member,
                 publish: Callable[[RoomEvent], None], talk: Talk, silence_s: float) -> None:
        self.track = track
        self._room, self._member = room, member
        self._publish, self._talk = publish, talk
        self._silence_s = silence_s
        self.capture_id = uuid.uuid4()
        self._resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._detector = SpeechDetector()
        self._clock: float | None = None  # where the next sample lies, in epoch seconds
        self._task: asyncio.Task | None = None
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._end()

    async def _read(self) -> None:
        try:
            while True:
                async with asyncio.timeout(self._silence_s):
                    frame = await self.track.recv()
                for update in self._hear(frame):
                    await self._tell(update)
        except TimeoutError:
            log.info("audio of %s silent for %.0f s; closing its analysis", self._member.id,
                     self._silence_s)
        except MediaStreamError:
            pass  # the sender stopped
        await self._end()

    def _hear(self, frame: AudioFrame) -> list[SegmentUpdate]:
        samples = detector_samples(self._resampler, frame)
        now = time.time()
        start = now - len(samples) / SAMPLE_RATE
        if self._clock is None or abs(self._clock - start) > RESYNC_S:
            self._clock = start
        updates = self._detector.hear(samples, self._clock)
        self._clock += len(samples) / SAMPLE_RATE
        return updates

    async def _tell(self, update: SegmentUpdate) -> None:
        start, end = (datetime.fromtimestamp(t, UTC) for t in (update.start, update.end))
        self._publish(RoomEvent("speech", self._room.session_id, start,
                                participant_id=self._member.id, capture_id=self.capture_id,
                                seq=update.seq, until=end))
        await self._talk.heard(self._room, self._member, self.capture_id, update.seq,
                               update.start, update.end, update.ongoing)

    async def _end(self) -> None:
        """Whatever ended the analysis, the segment going on ends where the speech did."""
        if self.closed.is_set():
            return
        self.closed.set()
        final = self._detector.close()
        if final is not None:
            await self._tell(final)
        await self._talk.stopped(self._room, self._member)


def detector_samples(resampler: AudioResampler, frame: AudioFrame) -> np.ndarray:
    """A decoded frame as the detector takes it: 16 kHz mono int16 (``resampler`` made as
    :class:`VoiceTap` makes it)."""
    return np.concatenate([f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
                          or [np.zeros(0, np.int16)])
