"""The SFU restarts mid-call: ingest notices that Janus lost the room, every page connects again
on its own, the consultant sees the client again and the client's analysis goes on, in the
same session, with nobody reloading anything."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import func, select

from contracts.schema import Session
from tests.support.calls import TIMEOUT_MS, consultation
from tests.support.figures import record
from tests.support.processes import wait_for
from tests.support.records import samples_since
from tests.support.rooms import CONNECTED, VIDEO_WIDTH


def test_after_janus_restarts_the_call_and_its_analysis_come_back_on_their_own(
        settings, worker, camera_y4m, engine, tmp_path):
    with consultation(settings, engine, camera_y4m, tmp_path) as call:
        call.janus.stop()
        restarted_at, started = datetime.now(UTC), time.monotonic()
        call.janus.start()
        wait_for(lambda: samples_since(engine, call.carla, restarted_at) >= 3, 90,
                 "Carla's frames after the restart")
        analysed_again = time.monotonic() - started
        for page in (call.host, call.client):
            page.wait_for_function(CONNECTED, arg=2, timeout=TIMEOUT_MS)
        call.host.wait_for_function(f"() => ({VIDEO_WIDTH})('Carla') > 0", timeout=TIMEOUT_MS)
        expect(call.client.locator("#status")).to_have_text(
            "In the call; face analysis is on, voice analysis is off")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Session).where(
            Session.room == call.links.room.name)) == 1, "the restart started another session"
    record("fault-janus-restart", f"""
Janus restarted mid-call: the client's analysis stored again {analysed_again:.1f} s after the
restart began, both pages connected again on their own, one session.""")
