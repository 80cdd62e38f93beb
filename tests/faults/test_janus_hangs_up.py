"""Janus hangs up the pages' connections mid-call and stays up (a VideoRoom ``kick``, as it drops
a peer it no longer hears): each page says it lost the call and is reconnecting, publishes
again on its own, and shows the other person's video again; the consenting client's frames are
stored again."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.support.calls import TIMEOUT_MS, consultation
from tests.support.figures import record
from tests.support.processes import wait_for
from tests.support.records import participant_named, samples_since, session_in
from tests.support.rooms import CONNECTED, VIDEO_PLAYS


def test_pages_whose_connections_janus_hangs_up_reconnect_and_say_so(
        settings, worker, camera_y4m, engine, tmp_path):
    # On a Janus of its own: the test kicks people out of its rooms.
    with consultation(settings, engine, camera_y4m, tmp_path) as call:
        room = call.links.room.name
        janus_room = str(session_in(engine, room).id)
        for person in (call.consultant, "Carla"):
            call.janus.kick(janus_room, str(participant_named(engine, room, person).id))
        kicked = time.monotonic()
        for page in (call.host, call.client):
            expect(page.locator("#connection-lost")).to_contain_text(
                "Connection to the call lost — reconnecting", timeout=TIMEOUT_MS)
        said_s, lost_at = time.monotonic() - kicked, datetime.now(UTC)

        for page, other in ((call.host, "Carla"), (call.client, call.consultant)):
            expect(page.locator("#connection-lost")).to_be_hidden(timeout=TIMEOUT_MS)
            page.wait_for_function(CONNECTED, arg=2, timeout=TIMEOUT_MS)
            page.wait_for_function(VIDEO_PLAYS, arg=other, polling=1_000, timeout=TIMEOUT_MS)
        back_s = time.monotonic() - kicked
        wait_for(lambda: samples_since(engine, call.carla, lost_at) >= 3, 90,
                 "Carla's frames after her page reconnected")
        analysed_s = time.monotonic() - kicked
        expect(call.client.locator("#status")).to_have_text(
            "In the call; face analysis is on, voice analysis is off")
    record("fault-janus-hangs-up", f"""
Janus hung up both pages' connections mid-call (kick), staying up: both pages said they were
reconnecting {said_s:.1f} s after, showed each other's video again after {back_s:.1f} s, and the
client's frames were stored again after {analysed_s:.1f} s.""")
