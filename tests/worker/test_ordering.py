"""Workers take entries in parallel, so they may see them out of order: an entry that names a
session or participant not recorded yet waits for it instead of failing or being lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bench.processes import wait_for
from bench.streams import Joined, publish_images, stored_samples
from contracts.schema import Participant, Session
from contracts.stream import RoomEvent, StreamKeys, publish_room_event
from training import data
from training.fer_clips import framed_face


def test_events_and_frames_published_in_reverse_order_are_all_recorded(
        settings, engine, redis_client, worker):
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    # The stream carries milliseconds.
    joined = Joined(uuid.uuid4(), uuid.uuid4(), datetime.now(UTC).replace(microsecond=0))
    later = joined.started + timedelta(seconds=30)
    face = framed_face(data.load(data.PUBLIC_TEST).images[0])
    publish_images(redis_client, settings, joined, [face, face])
    for event in (
        RoomEvent("session_ended", joined.session_id, later),
        RoomEvent("participant_left", joined.session_id, later,
                  participant_id=joined.participant_id),
        RoomEvent("participant_joined", joined.session_id, joined.started,
                  participant_id=joined.participant_id, role="client", display_name="Early",
                  consent_at=joined.started),
        RoomEvent("session_started", joined.session_id, joined.started, room="reversed",
                  source="room"),
    ):
        publish_room_event(redis_client, keys, event)

    wait_for(lambda: stored_samples(engine, joined.participant_id) == 2, 60, "both frames")
    wait_for(lambda: _one(engine, select(Participant.left_at)
                          .where(Participant.id == joined.participant_id)) == later,
             30, "the participant's leaving")
    assert _one(engine, select(Session.ended_at).where(Session.id == joined.session_id)) == later


def _one(engine, query):
    with engine.connect() as conn:
        return conn.scalar(query)
