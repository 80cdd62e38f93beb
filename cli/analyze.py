"""``econsult analyze VIDEO``: a recorded consultation through the same stream as a live room.

Publishes the session's room events and sampled frames, waits until the workers have stored
every frame (with a progress bar), then prints a per-emotion summary. Publishing stays at
most ``IN_FLIGHT`` frames ahead of what is stored, so the stream's length cap never trims a
frame of this analysis and a long video does not flood Redis.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import Engine, func, select
from tqdm import tqdm

from cli import CommandError
from cli.summary import print_summary
from contracts.database import engine_for
from contracts.schema import Sample
from contracts.settings import Settings
from contracts.stream import (
    Frame,
    RoomEvent,
    StreamKeys,
    live_workers,
    publish_frame,
    publish_room_event,
)
from ingest.encoding import encode_frame
from ingest.recording import RecordingError, probe, sampled_frames
from worker.emotion_model import ModelCard, card_path

IN_FLIGHT = 256
POLL_S = 0.2


@dataclass(frozen=True)
class AnalyzeRequest:
    video: Path
    room: str
    participant: str = "client"
    role: str = "client"
    consultant: str | None = None
    realtime: bool = False
    timeout_s: float = 60.0


@dataclass(frozen=True)
class Published:
    session_id: uuid.UUID
    participant_id: uuid.UUID
    frames: int


def analyze(request: AnalyzeRequest, settings: Settings) -> int:
    try:
        recording = probe(request.video)
    except RecordingError as exc:
        raise CommandError(str(exc)) from None
    client = redis.Redis.from_url(settings.redis_url)
    engine = engine_for(settings.database_url)
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    try:
        _require_workers(client, keys)
        total = recording.estimated_samples(settings.sample_fps)
        with tqdm(total=total, unit="frame", desc="analysed", leave=True) as bar:
            published = _publish(request, settings, client, keys, engine, bar)
        card = ModelCard.read(card_path(Path(settings.model_path)))
        print_summary(engine, published.session_id, published.participant_id, request,
                      card.publictest_accuracy)
    finally:
        client.close()
        engine.dispose()
    return 0


def _publish(request: AnalyzeRequest, settings: Settings, client: redis.Redis,
             keys: StreamKeys, engine: Engine, bar: tqdm) -> Published:
    session_id, participant_id = uuid.uuid4(), uuid.uuid4()
    started = datetime.now(UTC)
    publish_room_event(client, keys, RoomEvent(
        "session_started", session_id, started, room=request.room,
        consultant=request.consultant, source="recording"))
    # Whoever runs the analysis vouches that the person filmed agreed to it (see README).
    publish_room_event(client, keys, RoomEvent(
        "participant_joined", session_id, started, participant_id=participant_id,
        role=request.role, display_name=request.participant, consent_at=started))
    progress = _Progress(engine, participant_id, bar, request.timeout_s)
    seq, offset = 0, 0.0
    for seq, (offset, image) in enumerate(_paced(request, settings)):
        jpeg = encode_frame(image, settings.frame_max_width, settings.jpeg_quality)
        captured = started + timedelta(seconds=offset)
        if request.realtime:
            captured = datetime.now(UTC)
        publish_frame(client, keys, Frame(session_id, participant_id, seq, captured, jpeg),
                      settings.stream_maxlen)
        progress.wait_until_stored(seq + 1 - IN_FLIGHT)
    frames = seq + 1
    progress.wait_until_stored(frames)
    ended = started + timedelta(seconds=offset)
    publish_room_event(client, keys, RoomEvent(
        "participant_left", session_id, ended, participant_id=participant_id))
    publish_room_event(client, keys, RoomEvent("session_ended", session_id, ended))
    return Published(session_id, participant_id, frames)


def _paced(request: AnalyzeRequest, settings: Settings) -> Iterator[tuple[float, object]]:
    """Sampled frames, as fast as possible or, with --realtime, at the video's own pace."""
    clock = time.monotonic()
    try:
        for offset, image in sampled_frames(request.video, settings.sample_fps):
            if request.realtime:
                time.sleep(max(0.0, clock + offset - time.monotonic()))
            yield offset, image
    except RecordingError as exc:
        raise CommandError(str(exc)) from None


class _Progress:
    """Counts this participant's stored samples and moves the progress bar."""

    def __init__(self, engine: Engine, participant_id: uuid.UUID, bar: tqdm,
                 timeout_s: float) -> None:
        self.engine, self.participant_id, self.bar = engine, participant_id, bar
        self.timeout_s = timeout_s
        self.stored = 0
        self._last_poll = 0.0

    def wait_until_stored(self, target: int) -> None:
        last_change = time.monotonic()
        while True:
            now = time.monotonic()
            if now - self._last_poll >= POLL_S or self.stored < target:
                self._last_poll = now
                stored = self._count()
                if stored != self.stored:
                    self.bar.update(stored - self.stored)
                    self.stored, last_change = stored, now
            if self.stored >= target:
                return
            if now - last_change > self.timeout_s:
                raise CommandError(
                    f"workers stored no frame for {self.timeout_s:.0f} s ({self.stored} of "
                    f"{target} stored); check that `econsult worker` is running and its log")
            time.sleep(POLL_S)

    def _count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Sample)
                               .where(Sample.participant_id == self.participant_id))


def _require_workers(client: redis.Redis, keys: StreamKeys) -> None:
    if not live_workers(client, keys):
        raise CommandError("no worker is reading the frames stream; start them with "
                           "`econsult up` (or `econsult worker`) and try again")
