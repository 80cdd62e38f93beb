"""Room events that arrive together are all recorded at once, whatever their order."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from contracts.schema import Participant, Session
from contracts.stream import WORKER_GROUP, RoomEvent, StreamKeys, publish_room_event
from worker.consumer import StreamConsumer
from worker.emotion_model import EmotionClassifier
from worker.faces import FaceDetector
from worker.handler import BatchHandler


def test_a_batch_in_reverse_order_is_recorded_in_one_pass(settings, engine, redis_client):
    # A prefix of its own keeps the shared worker from taking these entries.
    settings = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-batch")
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    consumer = StreamConsumer(redis_client, settings, "in-test")
    handler = BatchHandler(consumer, engine, FaceDetector(), EmotionClassifier(settings.model_path))
    session_id, participant_id = uuid.uuid4(), uuid.uuid4()
    started = datetime.now(UTC).replace(microsecond=0)
    ended = started + timedelta(minutes=5)
    for event in (
        RoomEvent("session_ended", session_id, ended),
        RoomEvent("participant_left", session_id, ended, participant_id=participant_id),
        RoomEvent("participant_joined", session_id, started, participant_id=participant_id,
                  role="client", display_name="Early", consent_at=started),
        RoomEvent("session_started", session_id, started, room="reversed", source="room"),
    ):
        publish_room_event(redis_client, keys, event)

    batch = consumer.next_batch(block_ms=1000)
    assert len(batch.room_events) == 4
    handler.handle(batch)

    with engine.connect() as conn:
        assert conn.scalar(select(Session.ended_at).where(Session.id == session_id)) == ended
        assert conn.scalar(select(Participant.left_at)
                           .where(Participant.id == participant_id)) == ended
    assert handler.totals["room_events"] == 4
    assert not redis_client.xpending(keys.room_events, WORKER_GROUP)["pending"]
