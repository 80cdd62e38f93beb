"""Everything rides out an outage: PostgreSQL stopped for 30 s under ``econsult up``, during a
live call and a recording's analysis. No service exits, ``econsult analyze`` says it waits and
then finishes, and when the database is back every frame published before and after is stored.
A worker that dies is started again while the others go on; Ctrl-C ends the call's session as
interrupted. Joining a room needs PostgreSQL (who is invited is kept there), so the call's
participant joins before the outage and keeps streaming through it, while someone opening an
invitation meanwhile is told to try again in a minute (503)."""

from __future__ import annotations

import dataclasses
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts.database import engine_for
from contracts.invitations import RoomLinks
from contracts.schema import Session
from contracts.settings import Settings
from contracts.stream import StreamKeys, live_workers
from tests.conftest import CLIP_FACES
from tests.support.accounts import set_up, token
from tests.support.figures import record
from tests.support.participants import StreamingParticipant
from tests.support.processes import free_port, health, wait_for
from tests.support.records import participant_named, published_frames, samples_of
from tests.support.services import OwnPostgres, OwnRedis

OUTAGE_S = 30.0


@pytest.fixture
def services(settings: Settings, tmp_path):
    redis, postgres = OwnRedis(tmp_path).start(), OwnPostgres()
    postgres.start()
    yield dataclasses.replace(settings, redis_url=redis.url, database_url=postgres.url,
                              ingest_port=free_port(), dashboard_port=free_port(),
                              janus_url=f"http://127.0.0.1:{free_port()}/janus",
                              workers=2), postgres, redis
    redis.stop()
    postgres.drop()


def test_a_postgres_outage_under_econsult_up_loses_nothing_and_stops_nobody(
        services, fer_clip, tmp_path):
    own, postgres, redis = services
    log = tmp_path / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen([sys.executable, "-m", "cli.main", "up"],
                              env={**_env(own)}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{own.ingest_port}"
    engine = engine_for(own.database_url)
    keys = StreamKeys.for_prefix(own.redis_prefix)
    analysis = None
    try:
        wait_for(lambda: health(url) is not None and len(live_workers(redis.client(), keys)) == 2,
                 120, "econsult up to start ingest and both workers")
        # In the database econsult up migrated and its ingest admits people from.
        links = set_up(engine, own, url, "class", name=f"outage-{uuid.uuid4().hex[:6]}")
        room = links.room.name
        student = StreamingParticipant(url, links, "Olga")
        olga = participant_named(engine, room, "Olga")
        wait_for(lambda: len(samples_of(engine, olga.id)) >= 5, 60, "Olga's first frames")

        analysis = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "analyze", str(fer_clip.path), "--room",
             f"{room}-recording", "--participant", "Rec"], env=_env(own),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        postgres.stop()
        # Nobody new enters meanwhile (invitations live in PostgreSQL), told to try again.
        status, refusal = _admission(url, links)
        assert status == 503 and "Try again in a minute" in refusal, (status, refusal)
        time.sleep(OUTAGE_S)  # the outage itself: nothing to wait for, it is the fault
        back = time.monotonic()
        postgres.start()
        out, err = analysis.communicate(timeout=180)
        assert analysis.returncode == 0, err
        assert "waiting for it" in err, "econsult analyze did not say it was waiting"

        wait_for(lambda: len(samples_of(engine, olga.id)) == published_frames(url), 120,
                 "every frame Olga published to be stored")
        recovery_s = time.monotonic() - back
        seqs = [s.seq for s in samples_of(engine, olga.id)]
        assert seqs == list(range(len(seqs))), "a published frame of Olga's is missing"
        assert not re.search(r"exited with code", log.read_text()), log.read_text()

        _kill_a_worker(log, redis, keys)
        assert health(url) is not None, "ingest stopped when a worker died"

        up.send_signal(signal.SIGINT)  # Ctrl-C, with Olga still in the call
        assert up.wait(15) == 0, "econsult up did not stop within 15 s of Ctrl-C"
        student.leave()
    finally:
        if analysis is not None and analysis.poll() is None:
            analysis.kill()
        # Stopped as Ctrl-C stops it, so that it ends its sessions (killed, it would still
        # take its services with it).
        if up.poll() is None:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(60)
            except subprocess.TimeoutExpired:
                up.kill()
        engine.dispose()

    with engine_for(own.database_url).connect() as conn:
        session = conn.execute(select(Session).where(Session.room == room)).one()
        recording = conn.execute(select(Session).where(Session.room == f"{room}-recording")).one()
    assert (session.end_reason, recording.end_reason) == ("interrupted", "ended")
    record("postgres-outage", f"""
PostgreSQL down {OUTAGE_S:.0f} s under econsult up, during a call and a recording's analysis:
the call's frames published {len(seqs)}, stored {len(seqs)} (no gap), 0 duplicated; the
recording stored all {CLIP_FACES * 2} of its frames; all stored {recovery_s:.1f} s after
PostgreSQL was started again (its start included); no service exited; a killed worker was
started again.""")


def _admission(url: str, links: RoomLinks) -> tuple[int, str]:
    """The status and error of a guest's admission to the room."""
    request = urllib.request.Request(
        f"{url}/room/{links.room.name}/admission", method="POST",
        data=json.dumps({"invitation": token(links.guests)}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)["error"]


def _env(settings: Settings) -> dict[str, str]:
    import os

    return {**os.environ, **settings.to_env()}


def _kill_a_worker(log: Path, redis, keys: StreamKeys) -> None:
    """SIGKILL worker-1 (a child of econsult up): up starts it again."""
    pid = int(re.findall(r"worker-1\s+pid (\d+)", log.read_text())[-1])
    subprocess.run(["kill", "-KILL", str(pid)], check=True)
    wait_for(lambda: len(re.findall(r"worker-1\s+pid (\d+)", log.read_text())) == 2, 60,
             "econsult up to start worker-1 again")
    wait_for(lambda: "worker-1" in live_workers(redis.client(), keys), 120,
             "the new worker-1 to read")
