"""A consultant's day, as a new user lives it: open their room's link, sign in when asked and
land back in the room; set up a room on the Rooms page and send its invitation; the client
opens it, sees who invited them, consents and is seen. Withdrawn invitations open nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.accounts import PASSWORD, account, token
from tests.support.browsers import launcher
from tests.support.http import status_of
from tests.support.processes import EconsultProcess, econsult, free_port, health, wait_for
from tests.support.rooms import join_call, named

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("logs")
    return [folder / "ingest.log", folder / "dashboard.log"]


@pytest.fixture(scope="module")
def site(settings, worker, logs):
    """An ingest and a dashboard that link to each other, as one deployment's two halves."""
    ingest_port, dashboard_port = free_port(), free_port()
    both = dataclasses.replace(settings, ingest_port=ingest_port, dashboard_port=dashboard_port)
    ingest = EconsultProcess("ingest", econsult(both, "ingest", log=logs[0]))
    dashboard = EconsultProcess("dashboard", econsult(both, "dashboard", log=logs[1]))
    rooms, pages = both.public_room_url, both.public_dashboard_url
    wait_for(lambda: health(rooms) is not None and status_of(f"{pages}/login") == 200, 60,
             "ingest and the dashboard to start")
    yield rooms, pages
    ingest.stop()
    dashboard.stop()


@pytest.fixture(scope="module")
def browser(camera_y4m):
    with launcher(camera_y4m) as launch:
        yield launch()


def test_a_consultant_sets_up_a_room_and_their_invited_client_joins(site, browser, engine,
                                                                   logs):
    rooms, pages = site
    consultant = account(engine)
    page, own, invitation = _set_up_room(browser, pages, consultant.username, "smith-followup")
    assert own == f"{rooms}/room/smith-followup"
    assert invitation.startswith(f"{own}#invitation=")

    page.goto(own)
    expect(page.locator("#welcome")).to_have_text("Your consultation.", timeout=TIMEOUT_MS)
    join_call(page)
    expect(page.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
    client = browser.new_context().new_page()
    client.goto(named(invitation, "Carla"))
    expect(client.locator("#welcome")).to_have_text(
        f"{consultant.username} invited you to a consultation.", timeout=TIMEOUT_MS)
    join_call(client, "face")
    card = page.locator("#participants .participant", has_text="Carla")
    expect(card.locator(".presence")).to_contain_text("face in view", timeout=TIMEOUT_MS)
    page.context.close()
    client.context.close()
    # The invitation travelled in the link's fragment: no server logged it.
    secret = token(invitation)
    assert all("POST /" in log.read_text() for log in logs)  # requests are logged …
    assert [log.name for log in logs if secret in log.read_text()] == []  # … tokens are not


def test_a_consultant_asked_to_sign_in_lands_back_in_their_room(site, browser, engine):
    consultant = account(engine)
    setup, own, _ = _set_up_room(browser, site[1], consultant.username, consultant.username)
    setup.context.close()

    page = browser.new_context().new_page()
    page.goto(own)
    page.click("#sign-in", timeout=TIMEOUT_MS)
    _sign_in(page, consultant.username)
    expect(page).to_have_url(own, timeout=TIMEOUT_MS)
    join_call(page)
    expect(page.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
    page.context.close()


def test_withdrawn_invitations_open_nothing(site, browser, engine):
    consultant = account(engine)
    page, _, invitation = _set_up_room(browser, site[1], consultant.username,
                                       consultant.username)
    page.click("#withdraw")
    expect(page.locator("#room-action")).to_contain_text("withdrawn", timeout=TIMEOUT_MS)
    guest = browser.new_context().new_page()
    guest.goto(invitation)
    expect(guest.locator("#refused")).to_contain_text("was withdrawn", timeout=TIMEOUT_MS)
    page.context.close()
    guest.context.close()


def _set_up_room(browser, pages: str, username: str, name: str) -> tuple[object, str, str]:
    """Sign in as ``username`` and set up a consultation: the page, own link, invitation."""
    page = browser.new_context().new_page()
    page.goto(f"{pages}/login")
    _sign_in(page, username)
    page.goto(f"{pages}/rooms")
    page.fill("#room-name", name)
    page.click("#create-room")
    own = page.locator("#new-own").input_value(timeout=TIMEOUT_MS)
    return page, own, page.locator("#new-guests").input_value()


def _sign_in(page, username: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("input[name=password]")).to_have_count(0, timeout=TIMEOUT_MS)
