"""Rooms are only for the invited: an invitation admits one role into one room while it is
valid, the room's consultant enters signed in, and every refusal comes with its reason before
any camera or consent prompt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from contracts.invitations import close_room, withdraw_invitations
from contracts.schema import Invitation
from tests.support.accounts import account, account_named, set_up, token
from tests.support.browsers import launcher
from tests.support.rooms import COUNT_CAMERA_REQUESTS, join_call, named, signed_in
from tests.support.tls import serving_https

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser(camera_y4m):
    with launcher(camera_y4m) as launch:
        yield launch()


def _refusals(engine, settings, ingest_url):
    """Each mistake a person can make with a link, and what the page must say."""
    def forged(links):
        return links.guests.rsplit("=", 1)[0] + "=" + "x" * 32

    def expired(links):
        with engine.begin() as conn:
            conn.execute(update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(1))
                         .where(Invitation.room_id == links.room.id))
        return links.guests

    def withdrawn(links):
        withdraw_invitations(engine, links.room)
        return links.guests

    def for_another_room(links):
        other = set_up(engine, settings, ingest_url)
        return f"{ingest_url}/room/{other.room.name}#invitation={token(links.guests)}"

    def ended(links):
        close_room(engine, links.room.id)
        return links.guests

    def without_invitation(links):
        return links.guests.split("#")[0]

    return {"forged": (forged, "not valid"), "expired": (expired, "expired on"),
            "withdrawn": (withdrawn, "was withdrawn"),
            "for another room": (for_another_room, "for another room"),
            "room ended": (ended, "has ended"),
            "without invitation": (without_invitation, "only for invited people")}


@pytest.mark.parametrize("mistake", ["forged", "expired", "withdrawn", "for another room",
                                     "room ended", "without invitation"])
def test_a_bad_link_is_refused_with_its_reason_before_any_camera_or_consent(
        mistake, browser, room, engine, settings, ingest_url):
    spoil, reason = _refusals(engine, settings, ingest_url)[mistake]
    page = browser.new_page()
    page.add_init_script(COUNT_CAMERA_REQUESTS)
    page.goto(named(spoil(room), "Mallory"))
    expect(page.locator("#refused")).to_contain_text(reason, timeout=TIMEOUT_MS)
    expect(page.locator("#consent")).to_be_hidden()
    expect(page.locator("#call")).to_be_hidden()
    assert page.evaluate("window.cameraRequests") == 0
    page.close()


def test_the_consultants_own_link_asks_them_to_sign_in(browser, room, settings):
    page = browser.new_page()
    page.goto(room.own)
    expect(page.locator("#refused")).to_contain_text("sign in first", timeout=TIMEOUT_MS)
    expect(page.locator("#sign-in")).to_have_attribute(
        "href", f"{settings.public_dashboard_url}/login?next={quote(room.own, safe='')}")
    page.close()


def test_someone_elses_account_is_not_the_rooms_consultant(browser, room, engine, ingest_url):
    context = signed_in(browser, engine, account(engine), ingest_url)
    page = context.new_page()
    page.goto(room.own)
    expect(page.locator("#refused")).to_contain_text(f"{room.room.consultant}'s",
                                                     timeout=TIMEOUT_MS)
    context.close()


def test_a_blank_name_is_refused_before_any_camera(browser, room):
    page = browser.new_page()
    page.add_init_script(COUNT_CAMERA_REQUESTS)
    page.goto(room.guests)
    expect(page.locator("#welcome")).to_have_text(
        f"{room.room.consultant} invited you to a consultation.", timeout=TIMEOUT_MS)
    page.fill("#name-input", "   ")
    page.click("#name-form button")
    expect(page.locator("#name-problem")).to_be_visible()
    expect(page.locator("#consent")).to_be_hidden()
    assert page.evaluate("window.cameraRequests") == 0
    page.close()


def test_a_cohost_joins_with_their_own_account_and_everyone_sees_them(browser, room, engine,
                                                                      ingest_url):
    consultant = account(engine)
    host = signed_in(browser, engine, account_named(engine, room.room.consultant),
                     ingest_url).new_page()
    host.goto(room.own)
    join_call(host)
    expect(host.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
    client = browser.new_context().new_page()
    client.goto(named(room.guests, "Carla"))
    join_call(client)
    cohost = signed_in(browser, engine, consultant, ingest_url).new_page()
    cohost.goto(room.cohost)
    expect(cohost.locator("#welcome")).to_have_text(
        f"You co-host {room.room.consultant}'s consultation.", timeout=TIMEOUT_MS)
    join_call(cohost)
    for page in (host, client):
        expect(page.locator("#people")).to_contain_text(f"{consultant.username} (co-host)",
                                                        timeout=TIMEOUT_MS)
    expect(cohost.locator("#people")).to_contain_text(f"{room.room.consultant} (consultant)")
    expect(cohost.locator("#people")).to_contain_text("Carla (client)")
    for page in (host, client, cohost):
        page.context.close()


def test_a_cohost_link_needs_a_sign_in(browser, room):
    page = browser.new_page()
    page.goto(room.cohost)
    expect(page.locator("#refused")).to_contain_text("co-host link: sign in",
                                                     timeout=TIMEOUT_MS)
    page.close()


@pytest.fixture(scope="module")
def https_ingest(settings, worker, tmp_path_factory):
    with serving_https(settings, tmp_path_factory.mktemp("tls")) as (own, url, _):
        yield own, url


def test_over_https_an_invited_client_joins_and_is_analysed(https_ingest, browser, engine):
    settings, url = https_ingest
    links = set_up(engine, settings, url)
    host = signed_in(browser, engine, account_named(engine, links.room.consultant), url,
                     ignore_https_errors=True).new_page()
    host.goto(links.own)
    join_call(host)
    client = browser.new_context(ignore_https_errors=True).new_page()
    client.goto(named(links.guests, "Carla"))
    join_call(client, "face")
    expect(client.locator("#status")).to_contain_text("face analysis is on", timeout=TIMEOUT_MS)
    card = host.locator("#participants .participant", has_text="Carla")
    expect(card.locator(".presence")).to_contain_text("face in view", timeout=TIMEOUT_MS)
    assert client.evaluate("window.isSecureContext && location.protocol") == "https:"
    for page in (host, client):
        page.context.close()
