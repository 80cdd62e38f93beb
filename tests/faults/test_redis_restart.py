"""Records survive Redis: restarted (empty) while a session's start, joins and consent were
still unread, the room announces them again and nothing of the session's record is lost; a
worker rides out the restart, makes its consumer group again and goes on; frames are lost only
in the moments around a restart, and every frame after it is stored."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bench.processes import EconsultProcess, econsult, free_port, health, start_worker, wait_for
from contracts.schema import Participant, Sample, Session
from contracts.stream import StreamKeys
from tests.support.participants import StreamingParticipant
from tests.support.services import OwnRedis

# Frames captured this long after Redis is back are all stored.
RECOVERY_S = 3.0


@pytest.fixture
def redis_of_its_own(tmp_path):
    own = OwnRedis(tmp_path).start()
    yield own
    own.stop()


def test_a_redis_restart_loses_no_record_and_only_the_frames_in_its_moment(
        settings, engine, redis_of_its_own):
    own = dataclasses.replace(settings, redis_url=redis_of_its_own.url,
                              ingest_port=free_port())
    keys = StreamKeys.for_prefix(own.redis_prefix)
    client = redis_of_its_own.client()
    ingest = EconsultProcess("ingest", econsult(own, "ingest"))
    url, room = f"http://127.0.0.1:{own.ingest_port}", f"restart-{uuid.uuid4().hex[:6]}"
    worker = None
    try:
        wait_for(lambda: health(url) is not None, 60, "ingest to start")
        student = StreamingParticipant(url, room, "Rita")
        # No worker yet: the session's record and its first frames wait, unread, in Redis.
        wait_for(lambda: client.xlen(keys.frames) >= 5, 60, "frames to wait in Redis")
        first_restart = _restart(redis_of_its_own)
        wait_for(lambda: client.xlen(keys.room_events) >= 3, 30,
                 "ingest to announce the room again")
        worker = start_worker(own, "through-restarts")
        rita = _participant(engine, room, "Rita")
        wait_for(lambda: _captured_after(engine, rita.id, first_restart) >= 5, 60,
                 "frames after the first restart")
        second_restart = _restart(redis_of_its_own)
        wait_for(lambda: _captured_after(engine, rita.id, second_restart) >= 10, 60,
                 "frames after the second restart")
        student.leave()
        wait_for(lambda: _session(engine, room).ended_at is not None, 30,
                 "the session's end to be stored")
        assert worker.process.poll() is None, "the worker exited"
    finally:
        for process in (worker, ingest):
            if process is not None:
                process.stop()
        client.close()

    rita = _participant(engine, room, "Rita")
    assert rita.consent_at is not None and rita.left_at is not None
    assert _session(engine, room).end_reason == "ended"
    recovered = [s for s in _samples(engine, rita.id)
                 if s.captured_at > second_restart + timedelta(seconds=RECOVERY_S)]
    assert recovered and [s.seq for s in recovered] == list(
        range(recovered[0].seq, recovered[-1].seq + 1)), "a frame after recovery was lost"


def _restart(redis: OwnRedis) -> datetime:
    redis.stop()
    at = datetime.now(UTC)
    time.sleep(0.07)  # the 70 ms restart that used to stop every worker
    redis.start()
    return at


def _session(engine, room: str) -> Session:
    with engine.connect() as conn:
        return conn.execute(select(Session).where(Session.room == room)).one()


def _participant(engine, room: str, name: str) -> Participant:
    def find():
        with engine.connect() as conn:
            return conn.execute(select(Participant).join(Session).where(
                Session.room == room, Participant.display_name == name)).one_or_none()
    wait_for(lambda: find() is not None, 60, f"{name}'s join to be stored")
    return find()


def _samples(engine, participant_id) -> list[Sample]:
    with engine.connect() as conn:
        return conn.execute(select(Sample).where(Sample.participant_id == participant_id)
                            .order_by(Sample.seq)).all()


def _captured_after(engine, participant_id, moment: datetime) -> int:
    return sum(s.captured_at > moment for s in _samples(engine, participant_id))
