"""Publishing to the real streams exactly as producers do, and waiting until workers are done."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import redis
from sqlalchemy import Engine, func, select

from contracts.frames import Frame, publish_frame
from contracts.room_events import RoomEvent, publish_room_event
from contracts.schema import Sample
from contracts.settings import Settings
from contracts.stream import WORKER_GROUP, Backlog, StreamKeys
from ingest.encoding import encode_frame
from tests.support.processes import wait_for


@dataclass(frozen=True)
class Joined:
    session_id: uuid.UUID
    participant_id: uuid.UUID
    started: datetime
    capture_id: uuid.UUID = field(default_factory=uuid.uuid4)


def join(client: redis.Redis, settings: Settings, consent: bool = True,
         room: str = "test-room") -> Joined:
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    joined = Joined(uuid.uuid4(), uuid.uuid4(), datetime.now(UTC))
    publish_room_event(client, keys, RoomEvent(
        "session_started", joined.session_id, joined.started, room=room, source="room"))
    publish_room_event(client, keys, RoomEvent(
        "participant_joined", joined.session_id, joined.started,
        participant_id=joined.participant_id, role="client", display_name="Test Client",
        consent_at=joined.started if consent else None))
    return joined


def publish_images(client: redis.Redis, settings: Settings, joined: Joined,
                   images: Iterable[np.ndarray], first_seq: int = 0) -> list[bytes]:
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    ids = []
    for seq, image in enumerate(images, start=first_seq):
        frame = Frame(joined.session_id, joined.participant_id, joined.capture_id, seq,
                      joined.started + timedelta(seconds=seq / 2),
                      encode_frame(image, settings.frame_max_width, settings.jpeg_quality))
        ids.append(publish_frame(client, keys, frame, settings.stream_maxlen))
    return ids


def stored_samples(engine: Engine, participant_id: uuid.UUID) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Sample)
                           .where(Sample.participant_id == participant_id))


def pending(client: redis.Redis, settings: Settings, consumer: str | None = None) -> int:
    stream = StreamKeys.for_prefix(settings.redis_prefix).frames
    if consumer is None:
        return client.xpending(stream, WORKER_GROUP)["pending"]
    return len(client.xpending_range(stream, WORKER_GROUP, "-", "+", 10_000, consumer))


def wait_until_consumed(client: redis.Redis, settings: Settings, last_id: bytes,
                        timeout_s: float = 60) -> None:
    """Until the group has read past ``last_id`` on the frames stream and acked everything."""
    stream = StreamKeys.for_prefix(settings.redis_prefix).frames

    def consumed() -> bool:
        group = next(g for g in client.xinfo_groups(stream) if g["name"] == WORKER_GROUP.encode())
        delivered = tuple(map(int, group["last-delivered-id"].split(b"-")))
        return delivered >= tuple(map(int, last_id.split(b"-"))) and group["pending"] == 0

    wait_for(consumed, timeout_s, f"the workers to consume {last_id.decode()}")


def wait_until_all_consumed(client: redis.Redis, settings: Settings, timeout_s: float = 60
                            ) -> None:
    """Until the workers have read and finished every frame published so far."""
    stream = StreamKeys.for_prefix(settings.redis_prefix).frames

    def consumed() -> bool:
        backlog = Backlog.of(client.xinfo_stream(stream), client.xinfo_groups(stream))
        return backlog.unread + backlog.pending == 0

    wait_for(consumed, timeout_s, "the workers to consume every frame")


def as_read(fields: dict[str, str | bytes]) -> dict[bytes, bytes]:
    """What redis-py hands a consumer for the fields a producer added."""
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}
