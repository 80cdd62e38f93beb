"""A worker lets a batch gather: entries that arrive while its first is younger than
``ECONSULT_WORKER_GATHER_MS`` are taken with it, so that a class's frames, which come one at a
time, cost one round of reads and writes for several. A full batch, or one whose first entry
has waited long enough already, is taken at once."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import redis

from contracts.room_events import RoomEvent, publish_room_event
from contracts.settings import Settings
from contracts.stream import WORKER_GROUP, StreamKeys
from tests.support.processes import wait_for
from worker.consumer import StreamConsumer

TAKEN_AT_ONCE_S = 10.0  # far below the gathering time these tests set


@pytest.fixture
def gathering(settings: Settings) -> Settings:
    """Streams of their own (no other worker takes these entries) and a long gathering time."""
    own = f"{settings.redis_prefix}-gather-{uuid.uuid4().hex[:8]}"
    return dataclasses.replace(settings, redis_prefix=own,
                               worker_gather_ms=60_000, worker_batch=4)


def _event() -> RoomEvent:
    return RoomEvent("session_started", uuid.uuid4(), datetime.now(UTC), room="gather",
                     source="room")


def _read_with(consumer: StreamConsumer):
    pool = ThreadPoolExecutor(1)
    return pool, pool.submit(consumer.next_batch, 1000)


def test_entries_that_arrive_while_a_batch_gathers_are_taken_with_it(
        gathering: Settings, redis_client: redis.Redis):
    gathering = dataclasses.replace(gathering, worker_gather_ms=3_000)
    keys = StreamKeys.for_prefix(gathering.redis_prefix)
    consumer = StreamConsumer(redis_client, gathering, "gatherer")
    first = publish_room_event(redis_client, keys, _event())
    pool, reading = _read_with(consumer)
    with pool:
        wait_for(lambda: redis_client.xpending(keys.room_events, WORKER_GROUP)["pending"] == 1,
                 10, "the batch's first entry to be read")
        later = [publish_room_event(redis_client, keys, _event()) for _ in range(2)]
        batch = reading.result(timeout=30)
    assert [entry.id for entry in batch.room_events] == [first, *later]


def test_a_full_batch_is_taken_at_once(gathering: Settings, redis_client: redis.Redis):
    keys = StreamKeys.for_prefix(gathering.redis_prefix)
    consumer = StreamConsumer(redis_client, gathering, "full")
    published = [publish_room_event(redis_client, keys, _event())
                 for _ in range(gathering.worker_batch)]
    pool, reading = _read_with(consumer)
    with pool:
        batch = reading.result(timeout=TAKEN_AT_ONCE_S)
    assert [entry.id for entry in batch.room_events] == published


def test_a_batch_whose_first_entry_waited_long_enough_is_taken_at_once(
        gathering: Settings, redis_client: redis.Redis):
    keys = StreamKeys.for_prefix(gathering.redis_prefix)
    consumer = StreamConsumer(redis_client, gathering, "late")
    # Added, by its id, a second after 1970 began: it has waited far longer than 60 s.
    old = redis_client.xadd(keys.room_events, _event().encode(), id="1000-0")
    pool, reading = _read_with(consumer)
    with pool:
        batch = reading.result(timeout=TAKEN_AT_ONCE_S)
    assert [entry.id for entry in batch.room_events] == [old]
