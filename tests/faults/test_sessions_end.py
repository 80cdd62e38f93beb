"""Sessions end: one nothing is heard of for ``session_silence_s`` (its ingest died) is closed
as silent, one whose room still reports stays open, and a silent one heard of again reopens."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from contracts.room_events import RoomEvent, publish_room_event
from contracts.schema import Session
from contracts.stream import StreamKeys
from tests.support.processes import wait_for
from tests.support.streams import join

SILENCE_S = 3.0


def test_a_silent_session_is_closed_and_one_still_reported_is_not(
        own_streams, engine, redis_client, worker_factory):
    worker_factory(redis_prefix=own_streams.redis_prefix, session_silence_s=SILENCE_S)
    keys = StreamKeys.for_prefix(own_streams.redis_prefix)
    abandoned, alive = join(redis_client, own_streams), join(redis_client, own_streams)
    stop = threading.Event()
    reporter = threading.Thread(target=_report, args=(redis_client, keys, alive.session_id, stop))
    reporter.start()
    try:
        wait_for(lambda: _session(engine, abandoned.session_id) is not None, 30,
                 "the session to be stored")
        wait_for(lambda: _session(engine, abandoned.session_id).end_reason == "silent", 30,
                 "the abandoned session to be closed")
        closed = _session(engine, abandoned.session_id)
        assert closed.ended_at == closed.last_seen_at
        assert _session(engine, alive.session_id).ended_at is None
    finally:
        stop.set()
        reporter.join()

    publish_room_event(redis_client, keys, RoomEvent("session_alive", abandoned.session_id,
                                                     datetime.now(UTC)))
    wait_for(lambda: _session(engine, abandoned.session_id).ended_at is None, 30,
             "the session heard of again to reopen")


def _report(client, keys: StreamKeys, session_id, stop: threading.Event) -> None:
    """What a live room's ingest does, here six times per silence."""
    while not stop.wait(SILENCE_S / 6):
        publish_room_event(client, keys, RoomEvent("session_alive", session_id,
                                                   datetime.now(UTC)))


def _session(engine, session_id) -> Session | None:
    with engine.connect() as conn:
        return conn.execute(select(Session).where(Session.id == session_id)).one_or_none()
