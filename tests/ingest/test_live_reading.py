"""The reading the consultant is shown in the room: with its doubt ("unclear: A or B" when the
model is not sure), steady (contracts.smoothing), and compared with the client's usual face
(contracts.baseline) once it is known.

The faces are the test's: live updates published on Redis as a worker publishes them, for a
client who agreed to face analysis and sends no video, so that what they read is known."""

from __future__ import annotations

import asyncio
import html
import re
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

from contracts.baseline import MIN_FRAMES
from contracts.reading_accuracy import consent_text, limits_text
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.live_updates import Faces, Guest, watched_client
from tests.support.readings import face
from tests.support.rooms import join_call, signed_in
from tests.support.signalling import RoomSocket

TIMEOUT_MS = 30_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots for review

# A resting face the model reads as sad; the same face smiling a little, still mostly sad to the
# model; a face between surprise and fear.
RESTING = face("sad", 0.55, "neutral", 0.35)
FAINT_SMILE = face("sad", 0.40, "neutral", 0.30) | {"happy": 0.25}
BETWEEN = face("surprise", 0.44, "fear", 0.40)


def test_the_consultant_sees_doubt_and_the_clients_usual_face(settings, ingest_url, engine,
                                                              redis_client):
    consultant = account(engine)
    links = set_up(engine, settings, ingest_url, consultant=consultant)

    async def shown(host: RoomSocket, times: list[float]) -> list[tuple[str, str | None]]:
        """The reading and the personal reading the consultant is shown of each face."""
        readings = (await host.expect("live"))["readings"]
        assert len(readings) == len(times)
        return [(reading["shown"], reading["personal"]) for reading in readings]

    async def scenario() -> tuple[list, list, list]:
        async with watched_client(ingest_url, engine, links, consultant, redis_client,
                                  settings.redis_prefix) as (host, _, faces):
            resting = await shown(host, faces.show(RESTING, 15))
            smiling = await shown(host, faces.show(FAINT_SMILE, 3))
            between = await shown(host, faces.show(BETWEEN, 5))
            return resting, smiling, between

    resting, smiling, between = asyncio.run(scenario())
    assert {reading for reading, _ in resting} == {"sad"}
    assert [personal for _, personal in resting[:MIN_FRAMES]] == [None] * MIN_FRAMES
    assert {personal for _, personal in resting[MIN_FRAMES:]} == {"neutral"}
    assert smiling[-1] == ("sad", "happy")
    assert between[-1][0] == "unclear: surprise or fear"


def test_the_clients_card_shows_doubt_muted_and_the_personal_reading(
        settings, ingest_url, engine, redis_client, camera_y4m):
    consultant = account(engine)
    links = set_up(engine, settings, ingest_url, consultant=consultant)
    with launcher(camera_y4m) as launch:
        host = signed_in(launch(), engine, consultant, ingest_url).new_page()
        host.goto(links.own)
        join_call(host)
        expect(host.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        guest = Guest(ingest_url, links, "Una")
        try:
            card = host.locator("#participants .participant", has_text="Una")
            faces = Faces(redis_client, settings.redis_prefix, guest.joined)
            faces.show(RESTING, 5)
            expect(card.locator(".dominant")).to_have_text("sad", timeout=TIMEOUT_MS)
            expect(card.locator(".personal")).to_have_text("learning their usual expression…")
            faces.show(RESTING, 10)
            expect(card.locator(".personal")).to_have_text(
                "compared with their usual expression: neutral", timeout=TIMEOUT_MS)
            faces.show(BETWEEN, 5)
            reading = card.locator(".dominant")
            expect(reading).to_have_text("unclear: surprise or fear", timeout=TIMEOUT_MS)
            expect(reading).to_have_class(re.compile(r"\bmuted\b"))
            card.screenshot(path=ARTIFACTS / "room-unclear.png")
        finally:
            guest.leave()


def test_the_room_page_states_the_readings_measured_limits_and_how_long_they_are_kept(
        ingest_url, settings):
    with urllib.request.urlopen(f"{ingest_url}/room/any", timeout=10) as response:
        page = response.read().decode()
    assert html.escape(consent_text()) in page
    assert html.escape(limits_text()) in page
    assert (f"The estimates are kept {settings.retention_days:g} days; a summary of the session "
            f"(who took part, its scores) {settings.summary_retention_days:g} days.") in page
