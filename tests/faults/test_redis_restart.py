"""Records survive Redis: restarted (empty) while a session's start, joins and consent were
still unread, the room announces them again and nothing of the session's record is lost; down
for 30 s while someone joins, the join waits and is recorded when it is back; a worker rides out
both, makes its consumer group again and goes on; frames are lost only in the moments of a
restart, and every frame after it is stored; ``econsult analyze`` loses none at all."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.stream import StreamKeys
from tests.conftest import CLIP_FACES
from tests.support.accounts import set_up
from tests.support.figures import record
from tests.support.participants import StreamingParticipant
from tests.support.processes import (
    EconsultProcess,
    econsult,
    free_port,
    health,
    start_worker,
    wait_for,
)
from tests.support.records import participant_named, published_frames, samples_of, session_in
from tests.support.services import OwnRedis
from tests.support.streams import wait_until_all_consumed

# Frames captured this long after Redis is back are all stored.
RECOVERY_S = 3.0
BLIP_S = 0.07  # the 70 ms restart that used to stop every worker
OUTAGE_S = 30.0


@pytest.fixture
def redis_of_its_own(tmp_path):
    own = OwnRedis(tmp_path).start()
    yield own
    own.stop()


def test_redis_restarts_lose_no_record_and_only_the_frames_in_their_moment(
        settings, engine, redis_of_its_own):
    own = dataclasses.replace(settings, redis_url=redis_of_its_own.url,
                              ingest_port=free_port())
    keys = StreamKeys.for_prefix(own.redis_prefix)
    client = redis_of_its_own.client()
    url = f"http://127.0.0.1:{own.ingest_port}"
    # The room is set up where this ingest admits people: the test run's PostgreSQL.
    links = set_up(engine, own, url, "class", name=f"restart-{uuid.uuid4().hex[:6]}")
    room = links.room.name
    ingest = EconsultProcess("ingest", econsult(own, "ingest"))
    worker = None
    try:
        wait_for(lambda: health(url) is not None, 60, "ingest to start")
        rita = StreamingParticipant(url, links, "Rita")
        # No worker yet: the session's record and its first frames wait, unread, in Redis.
        wait_for(lambda: client.xlen(keys.frames) >= 5, 60, "frames to wait in Redis")
        blip = _restart(redis_of_its_own, BLIP_S)
        wait_for(lambda: client.xlen(keys.room_events) >= 3, 30,
                 "ingest to announce the room again")
        worker = start_worker(own, "through-restarts")
        rita_id = participant_named(engine, room, "Rita").id
        wait_for(lambda: _captured_after(engine, rita_id, blip) >= 5, 60,
                 "Rita's frames after the blip")

        # Down for the length of an outage, and someone joins meanwhile.
        redis_of_its_own.stop()
        down = datetime.now(UTC)
        sam = StreamingParticipant(url, links, "Sam")
        time.sleep(OUTAGE_S)  # the outage itself: nothing to wait for, it is the fault
        back, back_at = time.monotonic(), datetime.now(UTC)
        redis_of_its_own.start()
        sam_id = participant_named(engine, room, "Sam").id
        wait_for(lambda: min(_captured_after(engine, rita_id, back_at),
                             _captured_after(engine, sam_id, back_at)) >= 1, 60,
                 "both people's first frames after the outage")
        recovery_s = time.monotonic() - back
        wait_for(lambda: min(_captured_after(engine, rita_id, back_at),
                             _captured_after(engine, sam_id, back_at)) >= 10, 60,
                 "more of both people's frames")
        rita.leave()
        sam.leave()
        wait_for(lambda: session_in(engine, room).ended_at is not None, 30,
                 "the session's end to be stored")
        published = published_frames(url)
        wait_until_all_consumed(client, own)
        assert worker.process.poll() is None, "the worker exited"
    finally:
        for process in (worker, ingest):
            if process is not None:
                process.stop()
        client.close()

    assert session_in(engine, room).end_reason == "ended"
    stored = 0
    for name in ("Rita", "Sam"):
        person = participant_named(engine, room, name)
        assert person.consent_at is not None and person.left_at is not None, name
        samples = samples_of(engine, person.id)
        stored += len(samples)
        recovered = [s for s in samples
                     if s.captured_at > down + timedelta(seconds=OUTAGE_S + RECOVERY_S)]
        assert recovered and [s.seq for s in recovered] == list(
            range(recovered[0].seq, recovered[-1].seq + 1)), f"{name} lost a frame after recovery"
    record("fault-redis-restart", f"""
Redis restarted ({BLIP_S * 1000:.0f} ms) with a session's record and frames unread, then down
{OUTAGE_S:.0f} s while a second person joined: the record whole (2 people, consent, leaves,
end); frames published {published:.0f}, stored {stored}, 0 duplicated, 0 dead-lettered: the
{published - stored:.0f} lost were in Redis, unread, at a restart. A frame of each person captured
after Redis was back was stored {recovery_s:.1f} s after it was.""")


def _restart(redis: OwnRedis, down_s: float) -> datetime:
    redis.stop()
    at = datetime.now(UTC)
    time.sleep(down_s)  # the restart itself: nothing to wait for, it is the fault
    redis.start()
    return at


def _captured_after(engine, participant_id, moment: datetime) -> int:
    return sum(s.captured_at > moment for s in samples_of(engine, participant_id))


def test_econsult_analyze_publishes_what_a_restart_lost_again_and_stores_every_frame(
        settings, engine, redis_of_its_own, fer_clip):
    own = dataclasses.replace(settings, redis_url=redis_of_its_own.url)
    keys = StreamKeys.for_prefix(own.redis_prefix)
    client = redis_of_its_own.client()
    # A worker's heartbeat, so that analyze starts; the real worker comes after the restart.
    client.set(keys.heartbeat("about-to-start"), "alive", ex=60)
    room = f"restart-recording-{uuid.uuid4().hex[:6]}"
    analysis = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "analyze", str(fer_clip.path), "--room", room],
        env={**os.environ, **own.to_env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    worker = None
    try:
        wait_for(lambda: client.xlen(keys.frames) == CLIP_FACES * 2, 60,
                 "every frame of the recording to wait in Redis")
        _restart(redis_of_its_own, BLIP_S)
        worker = start_worker(own, "after-the-restart")
        _, err = analysis.communicate(timeout=120)
    finally:
        if analysis.poll() is None:
            analysis.kill()
        if worker is not None:
            worker.stop()
        client.close()
    assert analysis.returncode == 0, err
    assert "Redis restarted; publishing the session and 160 frames not yet stored again" in err
    assert session_in(engine, room).end_reason == "ended"
    recorded = participant_named(engine, room, "client")
    assert [s.seq for s in samples_of(engine, recorded.id)] == list(range(CLIP_FACES * 2))
