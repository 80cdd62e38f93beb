"""Entering rooms from tests: links with a guest's name, and a browser context signed in as an
account (the cookie the dashboard would set)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine

from contracts.accounts import COOKIE, Account, sign_in
from contracts.labels import EMOTIONS

# Counts the page's camera requests, so a test can tell that a refusal came before any.
COUNT_CAMERA_REQUESTS = """
window.cameraRequests = 0;
const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (...args) => { window.cameraRequests += 1;
                                                     return original(...args); };
"""
# The video elements showing the person ``name`` on a room page.
_VIDEOS_OF = ("name => [...document.querySelectorAll('#videos figure')]"
              ".filter(f => f.textContent.includes(name)).map(f => f.querySelector('video'))")
# The width of the video shown of the person ``name`` on a room page (0 while none plays).
VIDEO_WIDTH = f"name => ({_VIDEOS_OF})(name).map(v => v.videoWidth).find(w => w > 0) || 0"
# Whether the page shows the person ``name``'s video coming in: more frames of it than when last
# asked (polled), not a last frame left standing.
VIDEO_PLAYS = (f"name => {{ const shown = ({_VIDEOS_OF})(name).map(v =>"
               " v.getVideoPlaybackQuality().totalVideoFrames).find(n => n > 0) || 0;"
               " const seen = window.framesSeen ??= {}; const more = shown > seen[name];"
               " seen[name] = shown; return more; }")
# The names of the students whose thumbnail shows, wholly or partly, in a teacher's gallery's
# scrolling box.
THUMBNAILS_ON_SCREEN = """() => {
  const box = document.getElementById('participants').getBoundingClientRect();
  return [...document.querySelectorAll('#participants .tile:not(#self)')].filter((tile) => {
    const seen = tile.getBoundingClientRect();
    return seen.bottom > box.top && seen.top < box.bottom;
  }).map((tile) => tile.querySelector('figcaption').textContent.split(' (')[0]);
}"""
# Every PeerConnection of the page (its camera's and what it watches) up, and that many.
CONNECTED = """n => { const all = window.econsultConnections();
  return all.length === n && all.every(pc => pc.connectionState === "connected"); }"""


def named(link: str, name: str) -> str:
    """``link`` with the guest's name given, so the page does not ask for it."""
    base, _, fragment = link.partition("#")
    return f"{base}?name={name}" + (f"#{fragment}" if fragment else "")


def join_call(page: Page, *analyses: str) -> None:
    """Answer the room page's consent step: agree to ``analyses`` ("face", "voice"; none when
    not given), then join the call."""
    for analysis in analyses:
        page.check(f"#consent-{analysis}", timeout=60_000)
    page.click("#join", timeout=60_000)


def signed_in(browser: Browser, engine: Engine, account: Account, url: str,
              **options: object) -> BrowserContext:
    """A browser context (made with ``options``) signed in as ``account`` for ``url``'s host."""
    context = browser.new_context(**options)
    context.add_cookies([{"name": COOKIE, "value": sign_in(engine, account, 1.0), "url": url}])
    return context


def seconds_to_first_reading(host: Page, client: Page, invitation: str, name: str) -> float:
    """From the client opening ``invitation`` (and agreeing to face analysis) to the
    consultant's page showing their first live reading."""
    opened = time.monotonic()
    client.goto(named(invitation, name))
    join_call(client, "face")
    card = host.locator("#participants .participant", has_text=name)
    expect(card.locator(".dominant")).to_have_text(re.compile("|".join(EMOTIONS)),
                                                   timeout=60_000)
    return time.monotonic() - opened
