"""Accounts: signing out ends the sign-in on the server, cookies cannot be read by scripts or
sent by other sites, forms refuse other sites' pages, guessing passwords is slowed (for one
username, and from one client, known behind a trusted proxy by its X-Forwarded-For), and a
consultant sees only their own sessions while a manager sees all."""

from __future__ import annotations

import dataclasses
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, insert

from contracts.accounts import ADDRESS_FREE_FAILURES, COOKIE, FREE_FAILURES
from contracts.schema import FailedSignInsByAddress, Session
from tests.dashboard.conftest import serving, sign_in
from tests.support.accounts import PASSWORD, account, own_address
from tests.support.http import opener, status_of
from tests.support.summaries import summarise

ELSEWHERE = "https://elsewhere.example"
THIS_MACHINE = "127.0.0.1"  # where the tests' requests come from
TRIES = 10  # more than ADDRESS_FREE_FAILURES: the later ones are slowed
PAUSED = re.compile(r"from this address: try again in (1 second|\d+ seconds)\.")


@pytest.fixture(scope="module")
def behind_proxy_url(settings) -> Iterator[str]:
    """A dashboard behind a TLS proxy on this machine, which it trusts to name each client."""
    with serving(dataclasses.replace(settings, trusted_proxies=THIS_MACHINE)) as url:
        yield url


@pytest.fixture
def this_machine_forgotten(engine) -> Iterator[None]:
    """The failed sign-ins counted against this machine's address are forgotten before and
    after: every other test signs in from it."""

    def forget() -> None:
        with engine.begin() as conn:
            conn.execute(delete(FailedSignInsByAddress)
                         .where(FailedSignInsByAddress.address == THIS_MACHINE))

    forget()
    yield
    forget()


def test_signing_out_ends_the_sign_in_so_a_copied_cookie_opens_nothing(page, dashboard_url):
    cookie = _cookie(page)
    assert _status(dashboard_url, "/", cookie) == 200
    page.click("text=Sign out")
    expect(page.locator("button[type=submit]")).to_have_text("Sign in")
    assert _status(dashboard_url, "/", cookie) == 302  # to the sign-in page
    assert _status(dashboard_url, "/_dash-layout", cookie) == 403


def test_the_sign_in_cookie_is_out_of_scripts_and_other_sites_reach(page):
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""


@pytest.mark.parametrize("path, body", [
    ("/logout", b""),
    ("/_dash-update-component", b"{}"),
    ("/login", b"username=manager&password=x"),
])
def test_a_request_from_another_sites_page_is_refused(page, dashboard_url, path, body):
    cookie = _cookie(page)
    request = urllib.request.Request(f"{dashboard_url}{path}", data=body, method="POST",
                                     headers={"Origin": ELSEWHERE, "Cookie": cookie})
    assert status_of(request) == 403
    assert _status(dashboard_url, "/", cookie) == 200  # still signed in


def test_repeated_failed_sign_ins_are_slowed_even_for_the_right_password(engine,
                                                                        dashboard_url):
    target = account(engine, "manager")
    statuses = [_sign_in(dashboard_url, target.username, "wrong password")
                for _ in range(FREE_FAILURES)]
    assert statuses == [401] * FREE_FAILURES
    assert _sign_in(dashboard_url, target.username, PASSWORD) == 429


def test_many_usernames_from_one_client_are_slowed_and_other_clients_are_not(behind_proxy_url):
    client, other = own_address(), own_address()
    answers = [_sign_in_answer(behind_proxy_url, _unknown(), "a guess", client)
               for _ in range(TRIES)]
    statuses = [status for status, _ in answers]
    assert statuses[:ADDRESS_FREE_FAILURES] == [401] * ADDRESS_FREE_FAILURES
    assert statuses[-1] == 429
    assert PAUSED.search(answers[-1][1]), answers[-1][1]
    # Another client behind the same proxy is counted apart.
    assert _sign_in(behind_proxy_url, _unknown(), "a guess", other) == 401


def test_an_untrusted_senders_forwarded_for_is_ignored(dashboard_url, this_machine_forgotten):
    # This dashboard trusts no proxy: however many clients the header names, it is one sender.
    statuses = [_sign_in(dashboard_url, _unknown(), "a guess", own_address())
                for _ in range(TRIES)]
    assert statuses[:ADDRESS_FREE_FAILURES] == [401] * ADDRESS_FREE_FAILURES
    assert statuses[-1] == 429


def test_a_consultant_sees_only_their_own_sessions(browser, dashboard_url, engine):
    mine, theirs = (account(engine) for _ in range(2))
    my_room, their_room = (_session(engine, who.username) for who in (mine, theirs))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, dashboard_url, PASSWORD, mine.username)
    expect(page.locator("#sessions")).to_contain_text(my_room[0], timeout=30_000)
    expect(page.locator("#sessions")).not_to_contain_text(their_room[0])
    page.goto(f"{dashboard_url}/report/{their_room[1]}")
    expect(page.locator("body")).to_contain_text("There is no such session.", timeout=30_000)
    page.goto(f"{dashboard_url}/report/{my_room[1]}")
    expect(page.locator("h2")).to_contain_text(my_room[0], timeout=30_000)
    context.close()


def test_a_manager_sees_every_consultants_sessions(page, dashboard_url, engine):
    rooms = [_session(engine, account(engine).username)[0] for _ in range(2)]
    page.goto(dashboard_url)
    for room in rooms:
        expect(page.locator("#sessions")).to_contain_text(room, timeout=30_000)


def _session(engine, consultant: str) -> tuple[str, uuid.UUID]:
    room, session_id = f"own-{uuid.uuid4().hex[:6]}", uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room=room, consultant=consultant,
                                            source="room", started_at=datetime.now(UTC)))
    summarise(engine)
    return room, session_id


def _cookie(page) -> str:
    value = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
    return f"{COOKIE}={value}"


def _unknown() -> str:
    return f"nobody-{uuid.uuid4().hex[:6]}"


def _sign_in(url: str, username: str, password: str, forwarded_for: str | None = None) -> int:
    return _sign_in_answer(url, username, password, forwarded_for)[0]


def _sign_in_answer(url: str, username: str, password: str, forwarded_for: str | None = None
                    ) -> tuple[int, str]:
    """The status and the text of the answer to a sign-in, sent as a proxy would forward it
    for ``forwarded_for`` when given."""
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    request = urllib.request.Request(f"{url}/login", data=body, method="POST", headers=headers)
    try:
        with opener().open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _status(url: str, path: str, cookie: str) -> int:
    return status_of(urllib.request.Request(f"{url}{path}", headers={"Cookie": cookie}))
