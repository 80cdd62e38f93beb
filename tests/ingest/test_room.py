"""A consultation in real browsers: the consultant and the client see each other, the
consenting client's expressions reach PostgreSQL and the consultant's live feedback, and
whoever declines is never analysed."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, text

from contracts.labels import EMOTIONS
from contracts.schema import Sample, Session
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.processes import analysis_peers, wait_for
from tests.support.records import participant_named
from tests.support.rooms import join_call, named, signed_in
from tests.support.streams import wait_until_all_consumed

TIMEOUT_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots for review
SEES = ("name => [...document.querySelectorAll('#videos figure')].some(figure =>"
        " figure.textContent.includes(name) && figure.querySelector('video').videoWidth > 0)")


@pytest.fixture(scope="module")
def call(ingest_url, camera_y4m, engine, settings):
    """Dr Bob consults, signed in; Carla agrees to face analysis, Dan declines all analysis
    (both invited)."""
    bob = account(engine, username=f"Dr Bob {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, ingest_url, consultant=bob)
    with launcher(camera_y4m) as launch:
        consultant = signed_in(launch(), engine, bob, ingest_url).new_page()
        consultant.goto(links.own)
        join_call(consultant)
        expect(consultant.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        client = _join(launch, links.guests, "Carla")
        join_call(client, "face")
        expect(client.locator("#status")).to_contain_text("face analysis is on",
                                                          timeout=TIMEOUT_MS)
        decliner = _join(launch, links.guests, "Dan")
        join_call(decliner)
        expect(decliner.locator("#status")).to_contain_text("face analysis is off",
                                                            timeout=TIMEOUT_MS)
        yield links.room.name, consultant, client, decliner, links


def test_nothing_of_the_call_shows_behind_the_consent_question(call):
    page = call[1].context.browser.new_page()
    page.goto(named(call[4].guests, "Quinn"))
    expect(page.locator("#consent")).to_be_visible(timeout=TIMEOUT_MS)
    for part in ("#call", "#leave", "#toggle-face", "#toggle-voice", "#microphone"):
        expect(page.locator(part)).to_be_hidden()
    page.close()


def test_the_consultant_and_the_client_see_each_other(call):
    _, consultant, client, _, _ = call
    consultant.wait_for_function(SEES, arg="Carla", timeout=TIMEOUT_MS)
    client.wait_for_function(SEES, arg="Dr Bob", timeout=TIMEOUT_MS)


def test_the_consenting_clients_expressions_are_stored(call, engine):
    carla = participant_named(engine, call[0], "Carla")
    assert carla.consent_at is not None
    wait_for(lambda: _samples(engine, carla.id) >= 5, 90, "Carla's analysed frames")


def test_the_consultant_sees_live_feedback_with_a_quality_score(call):
    consultant = call[1]
    card = consultant.locator("#participants .participant", has_text="Carla")
    expect(card.locator(".dominant")).to_have_text(re.compile("|".join(EMOTIONS)),
                                                   timeout=TIMEOUT_MS)
    expect(card.locator(".presence")).to_have_text(re.compile("face in view|no face in view"))
    expect(consultant.locator("#session-quality")).to_have_text(re.compile(r"^\d+$"),
                                                                timeout=TIMEOUT_MS)
    for page, who in ((consultant, "consultant"), (call[2], "client")):
        page.screenshot(path=ARTIFACTS / f"room-{who}.png", full_page=True)


def test_the_consultant_sees_the_live_reading_the_reports_keep(call, engine):
    """The card shows the expressions smoothed over the last seconds, with its doubt, the same
    reading the live dashboard and the reports compute in SQL (contracts.smoothing), and whether
    the face is turned to the screen."""
    consultant = call[1]
    card = consultant.locator("#participants .participant", has_text="Carla")
    expect(card.locator(".presence")).to_have_text(re.compile("facing the screen|turned away"),
                                                   timeout=TIMEOUT_MS)
    carla = participant_named(engine, call[0], "Carla")
    looks: list[tuple[str, str | None]] = []

    def a_face_is_shown() -> bool:
        # The card's frame and reading, read together: the card changes with every stored
        # frame, and a frame without a face has no reading to compare.
        captured, dominant, presence = card.evaluate(
            "c => [Number(c.dataset.captured), c.querySelector('.dominant').textContent, "
            "c.querySelector('.presence').textContent]")
        if not presence.startswith("face in view"):
            return False
        with engine.connect() as conn:
            kept = conn.execute(text(
                "SELECT shown FROM emotion_readings WHERE participant_id = :id "
                "AND captured_at BETWEEN to_timestamp((:ms - 0.5) / 1000.0) "
                "AND to_timestamp((:ms + 0.5) / 1000.0)"),
                {"id": carla.id, "ms": captured}).scalar_one_or_none()
        looks.append((dominant, kept))
        return True

    wait_for(a_face_is_shown, TIMEOUT_MS / 1000, "the card to show a frame with a face")
    dominant, kept = looks[-1]
    assert dominant == kept


def test_the_consultant_sees_a_summary_of_the_whole_room(call):
    summary = call[1].locator("#class-summary")
    expect(summary).to_contain_text("of 1 analysed participants with a face in view",
                                    timeout=TIMEOUT_MS)
    expect(summary).to_contain_text("(1 not analysed)")


def test_the_consultant_sees_who_is_not_analysed(call):
    card = call[1].locator("#participants .participant", has_text="Dan")
    expect(card.locator(".dominant")).to_have_text("face not analysed (no consent)",
                                                   timeout=TIMEOUT_MS)


def test_a_client_who_declines_is_never_analysed(call, engine):
    carla, dan = (participant_named(engine, call[0], name) for name in ("Carla", "Dan"))
    assert dan.consent_at is None
    # Once Carla's frames from well after Dan joined are stored, Dan's would be too.
    wait_for(lambda: _samples(engine, carla.id, after=dan.joined_at + timedelta(seconds=3)) > 0,
             90, "Carla's frames from after Dan joined")
    assert _samples(engine, dan.id) == 0


def _join(launch, link: str, name: str) -> Page:
    page = launch().new_page()
    page.goto(named(link, quote(name)))
    return page


def _samples(engine, participant_id, after=None) -> int:
    query = select(func.count()).select_from(Sample).where(
        Sample.participant_id == participant_id)
    if after is not None:
        query = query.where(Sample.captured_at > after)
    with engine.connect() as conn:
        return conn.scalar(query)


def test_a_participant_who_leaves_and_comes_back_is_the_same_participant(call, engine):
    room, consultant, _, decliner, _ = call
    dan = participant_named(engine, room, "Dan")
    decliner.click("#leave")
    decliner.wait_for_function("state.ws.readyState === WebSocket.CLOSED")
    expect(decliner.locator("#status")).to_have_text("You left the call")
    wait_for(lambda: participant_named(engine, room, "Dan").left_at is not None, 30,
             "Dan's leaving to be stored")
    decliner.reload()  # the same link: Dan opens it again
    join_call(decliner)
    consultant.wait_for_function(SEES, arg="Dan", timeout=TIMEOUT_MS)
    wait_for(lambda: participant_named(engine, room, "Dan").left_at is None, 30,
             "Dan's return to be stored")
    assert participant_named(engine, room, "Dan").id == dan.id


def test_withdrawing_consent_mid_call_stops_the_analysis_at_once(call, engine, ingest_url,
                                                                  redis_client, settings):
    client = call[2]
    client.click("#toggle-face")
    expect(client.locator("#status")).to_contain_text("face analysis is off",
                                                      timeout=TIMEOUT_MS)
    wait_for(lambda: participant_named(engine, call[0], "Carla").consent_withdrawn_at is not None,
             30, "the withdrawal to be recorded")
    carla = participant_named(engine, call[0], "Carla")
    wait_for(lambda: analysis_peers(ingest_url) == 0, 30,
             "ingest to close the analysis connection")
    # Whatever was already on the stream is worked off before looking.
    wait_until_all_consumed(redis_client, settings)
    assert _samples(engine, carla.id, after=carla.consent_withdrawn_at) == 0


def test_the_consultant_ends_the_session_for_everyone(call, engine):
    room, consultant, client, _, _ = call
    consultant.click("#end")
    for page in (consultant, client):
        expect(page.locator("#ended")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#call")).to_be_hidden()
    expect(client.locator("#toggle-face")).to_be_hidden()

    def ended_at():
        with engine.connect() as conn:
            return conn.scalar(select(Session.ended_at).where(Session.room == room))
    wait_for(lambda: ended_at() is not None, 30, "the session's end to be stored")
    assert participant_named(engine, room, "Carla").left_at is not None
