"""The SFU restarts mid-call: ingest notices that Janus lost the room, every page connects again
on its own, the consultant sees the client again and the client's analysis goes on, in the
same session, with nobody reloading anything."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import func, select

from contracts.schema import Session
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.figures import record
from tests.support.ingest import running_ingest
from tests.support.janus import OwnJanus
from tests.support.processes import free_port, wait_for
from tests.support.records import participant_named, samples_of
from tests.support.rooms import VIDEO_WIDTH, named, signed_in

TIMEOUT_MS = 90_000
# Every PeerConnection of the page (its camera's and what it watches) up, and that many.
CONNECTED = """n => { const all = window.econsultConnections();
  return all.length === n && all.every(pc => pc.connectionState === "connected"); }"""


def test_after_janus_restarts_the_call_and_its_analysis_come_back_on_their_own(
        settings, worker, camera_y4m, engine, tmp_path):
    janus = OwnJanus(tmp_path).start()
    own = dataclasses.replace(settings, ingest_port=free_port(), janus_url=janus.url,
                              janus_admin_key=janus.admin_key)
    bob = account(engine, username=f"Dr Bob {uuid.uuid4().hex[:4]}")
    try:
        with running_ingest(own) as url, launcher(camera_y4m) as launch:
            links = set_up(engine, own, url, consultant=bob)
            consultant = signed_in(launch(), engine, bob, url).new_page()
            consultant.goto(links.own)
            expect(consultant.locator("#status")).to_contain_text("In the call",
                                                                  timeout=TIMEOUT_MS)
            client = launch().new_page()
            client.goto(named(links.guests, "Carla"))
            client.click("#agree")
            carla = participant_named(engine, links.room.name, "Carla").id
            consultant.wait_for_function(CONNECTED, arg=2, timeout=TIMEOUT_MS)
            wait_for(lambda: len(samples_of(engine, carla)) >= 3, 60, "Carla's first frames")

            janus.stop()
            restarted_at, started = datetime.now(UTC), time.monotonic()
            janus.start()
            wait_for(lambda: _since(engine, carla, restarted_at) >= 3, 90,
                     "Carla's frames after the restart")
            analysed_again = time.monotonic() - started
            for page in (consultant, client):
                page.wait_for_function(CONNECTED, arg=2, timeout=TIMEOUT_MS)
            consultant.wait_for_function(f"() => ({VIDEO_WIDTH})('Carla') > 0",
                                         timeout=TIMEOUT_MS)
            expect(client.locator("#status")).to_have_text("In the call; emotion analysis is on")
    finally:
        janus.stop()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Session).where(
            Session.room == links.room.name)) == 1, "the restart started another session"
    record("fault-janus-restart", f"""
Janus restarted mid-call: the client's analysis stored again {analysed_again:.1f} s after the
restart began, both pages connected again on their own, one session.""")


def _since(engine, participant: uuid.UUID, moment: datetime) -> int:
    return sum(sample.captured_at > moment for sample in samples_of(engine, participant))
