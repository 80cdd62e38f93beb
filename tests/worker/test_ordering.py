"""Workers take entries in parallel, so they may see them out of order: an entry that names a
session or participant not recorded yet waits for it instead of failing or being lost."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from contracts.emotion_model import EmotionClassifier
from contracts.room_events import RoomEvent, publish_room_event
from contracts.schema import Participant, Session
from contracts.stream import WORKER_GROUP, StreamKeys
from tests.support.processes import wait_for
from tests.support.streams import Joined, publish_images, stored_samples
from training import data
from training.fer_clips import framed_face
from worker.consumer import StreamConsumer
from worker.faces import FaceDetector
from worker.handler import BatchHandler


def test_events_and_frames_published_in_reverse_order_are_all_recorded(
        settings, engine, redis_client, worker):
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    # The stream carries milliseconds.
    joined = Joined(uuid.uuid4(), uuid.uuid4(), datetime.now(UTC).replace(microsecond=0))
    later = joined.started + timedelta(seconds=30)
    face = framed_face(data.load(data.PUBLIC_TEST).images[0])
    publish_images(redis_client, settings, joined, [face, face])
    for event in _lifecycle_in_reverse(joined.session_id, joined.participant_id,
                                       joined.started, later):
        publish_room_event(redis_client, keys, event)

    wait_for(lambda: stored_samples(engine, joined.participant_id) == 2, 60, "both frames")
    wait_for(lambda: _one(engine, select(Participant.left_at)
                          .where(Participant.id == joined.participant_id)) == later,
             30, "the participant's leaving")
    assert _one(engine, select(Session.ended_at).where(Session.id == joined.session_id)) == later


def test_a_batch_in_reverse_order_is_recorded_in_one_pass(settings, engine, redis_client):
    # A prefix of its own keeps the shared worker from taking these entries.
    settings = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-batch")
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    consumer = StreamConsumer(redis_client, settings, "in-test")
    handler = BatchHandler(consumer, engine, FaceDetector(), EmotionClassifier(settings.model_path),
                           settings)
    session_id, participant_id = uuid.uuid4(), uuid.uuid4()
    started = datetime.now(UTC).replace(microsecond=0)
    ended = started + timedelta(minutes=5)
    for event in _lifecycle_in_reverse(session_id, participant_id, started, ended):
        publish_room_event(redis_client, keys, event)

    batch = consumer.next_batch(block_ms=1000)
    assert len(batch.room_events) == 4
    handler.handle(batch)

    assert _one(engine, select(Session.ended_at).where(Session.id == session_id)) == ended
    assert _one(engine, select(Participant.left_at)
                .where(Participant.id == participant_id)) == ended
    assert handler.totals["room_events"] == 4
    assert not redis_client.xpending(keys.room_events, WORKER_GROUP)["pending"]


def _lifecycle_in_reverse(session_id: uuid.UUID, participant_id: uuid.UUID, started: datetime,
                          ended: datetime) -> tuple[RoomEvent, ...]:
    """A session with one participant, its events published last first."""
    return (
        RoomEvent("session_ended", session_id, ended),
        RoomEvent("participant_left", session_id, ended, participant_id=participant_id),
        RoomEvent("participant_joined", session_id, started, participant_id=participant_id,
                  role="client", display_name="Early", consent_at=started),
        RoomEvent("session_started", session_id, started, room="reversed", source="room"),
    )


def _one(engine, query):
    with engine.connect() as conn:
        return conn.scalar(query)
