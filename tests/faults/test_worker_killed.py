"""A worker killed while it holds a session's start and its participant's join: another takes
them over, the frames that arrived meanwhile wait for them and are all stored, and the dead
worker leaves the consumer group."""

from __future__ import annotations

import time

from sqlalchemy import text

from contracts.stream import WORKER_GROUP, StreamKeys
from tests.support.figures import record
from tests.support.processes import wait_for
from tests.support.streams import join, publish_images, stored_samples
from training import data
from training.fer_clips import framed_face

FRAMES = 40


def test_room_events_held_by_a_killed_worker_are_taken_over_and_no_frame_is_lost(
        own_streams, engine, redis_client, worker_factory, dead_letters):
    keys = StreamKeys.for_prefix(own_streams.redis_prefix)
    victim = worker_factory("victim", redis_prefix=own_streams.redis_prefix)
    # The victim reads the session's start (its join waits for it) but cannot write it: the
    # table is locked.
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE sessions IN SHARE ROW EXCLUSIVE MODE"))
        joined = join(redis_client, own_streams)
        wait_for(lambda: _held(redis_client, keys, "victim") > 0, 30,
                 "the victim to take the session's start")
        victim.kill()
        blocker.rollback()

    killed = time.monotonic()
    worker_factory("rescuer", redis_prefix=own_streams.redis_prefix)
    faces = data.load(data.PUBLIC_TEST).images
    publish_images(redis_client, own_streams, joined,
                   (framed_face(faces[i]) for i in range(FRAMES)))
    wait_for(lambda: stored_samples(engine, joined.participant_id) == FRAMES, 120,
             "every frame to be stored")
    assert dead_letters(own_streams) == []
    record("fault-worker-killed", f"""
A worker SIGKILLed holding a session's start (claim idle {own_streams.claim_idle_ms} ms): frames
published {FRAMES}, stored {FRAMES}, 0 dead-lettered, 0 duplicated; all stored
{time.monotonic() - killed:.1f} s after the kill.""")
    wait_for(lambda: "victim" not in _consumers(redis_client, keys), 60,
             "the dead worker to leave the group")


def _held(client, keys: StreamKeys, consumer: str) -> int:
    return len(client.xpending_range(keys.room_events, WORKER_GROUP, "-", "+", 100, consumer))


def _consumers(client, keys: StreamKeys) -> set[str]:
    return {c["name"].decode() for stream in (keys.frames, keys.room_events)
            for c in client.xinfo_consumers(stream, WORKER_GROUP)}
