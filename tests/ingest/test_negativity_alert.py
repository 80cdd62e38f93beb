"""The lasting-negativity alert in the room: the consultant is told, on the client's card and
quietly, when the client's faces have read negative for most of the alert window
(contracts.alert, the live dashboard's rule), and no longer once the rule stops holding or the
client withdraws consent to face analysis.

The faces are the test's: live updates published on Redis as a worker publishes them, for a
client who agreed to face analysis and sends no video, so that what they read is known."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contracts.alert import COVERED, AlertRule, negativity
from contracts.labels import EMOTIONS
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.live_updates import WITHDRAW, Faces, Guest, watched_client
from tests.support.rooms import join_call, signed_in
from tests.support.signalling import RoomSocket

TIMEOUT_MS = 30_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots for review
SAD = dict(zip(EMOTIONS, (0.1, 0.0, 0.1, 0.0, 0.1, 0.7, 0.0), strict=True))  # 0.9 negative
HAPPY = dict(zip(EMOTIONS, (0.0, 0.0, 0.0, 0.8, 0.2, 0.0, 0.0), strict=True))


def test_the_consultant_is_told_while_the_rule_holds_and_consent_stands(
        settings, ingest_url, engine, redis_client):
    rule = AlertRule.of(settings)
    assert negativity(SAD) >= rule.negative > negativity(HAPPY)
    consultant = account(engine)
    links = set_up(engine, settings, ingest_url, consultant=consultant)

    async def told(host: RoomSocket, times: list[float]) -> list[float | None]:
        """What the consultant is told of each of these faces."""
        readings = (await host.expect("live"))["readings"]
        assert len(readings) == len(times)
        return [reading["negative_for_s"] for reading in readings]

    async def scenario() -> tuple[list, list, list, list]:
        async with watched_client(ingest_url, engine, links, consultant, redis_client,
                                  settings.redis_prefix) as (host, guest, faces):
            sad = await told(host, faces.show(SAD, rule.seconds))
            calm = await told(host, faces.show(HAPPY, rule.seconds))
            sad_again = await told(host, faces.show(SAD, rule.seconds))
            await guest.send(WITHDRAW)
            await host.expect("peer-consent")
            withdrawn = await told(host, faces.show(SAD, 1))
            return sad, calm, sad_again, withdrawn

    sad, calm, sad_again, withdrawn = asyncio.run(scenario())
    covered = round(2 * COVERED * rule.seconds)  # faces since the first, at two a second
    assert sad[:covered] == [None] * covered
    assert sad[covered:] == [pytest.approx(i / 2) for i in range(covered, len(sad))]
    assert calm[0] is not None and calm[-1] is None
    assert calm.index(None) < len(calm) / 2  # once a third of the window is calm, at 0.9 sad
    assert sad_again[-1] == pytest.approx(rule.seconds - 0.5)
    assert withdrawn == [None, None]


def test_the_clients_card_shows_lasting_negativity_as_a_hint(
        settings, ingest_url, engine, redis_client, camera_y4m):
    rule = AlertRule.of(settings)
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
            expect(card.locator(".dominant")).to_have_text("waiting for analysis…",
                                                           timeout=TIMEOUT_MS)
            alert = card.locator(".negativity")
            faces = Faces(redis_client, settings.redis_prefix, guest.joined)
            faces.show(SAD, rule.seconds)
            expect(alert).to_have_text(
                f"negative expressions for the last {round(rule.seconds - 0.5)} s",
                timeout=TIMEOUT_MS)
            expect(alert).not_to_have_css("color", "rgb(176, 0, 32)")  # never the red of problems
            card.screenshot(path=ARTIFACTS / "room-negativity.png")
            faces.show(HAPPY, rule.seconds)
            expect(alert).to_be_hidden(timeout=TIMEOUT_MS)
            faces.show(SAD, rule.seconds)
            expect(alert).to_be_visible(timeout=TIMEOUT_MS)
            guest.withdraw()
            expect(card.locator(".dominant")).to_have_text("face not analysed (no consent)",
                                                           timeout=TIMEOUT_MS)
            expect(alert).to_be_hidden()
        finally:
            guest.leave()
