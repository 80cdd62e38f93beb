"""The live view shows who is in a running session now and alerts on lasting negativity."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert

from contracts.labels import EMOTIONS
from contracts.schema import Participant, Session
from tests.dashboard.conftest import ARTIFACTS
from tests.support.records import insert_frame

SAD = dict(zip(EMOTIONS, (0.1, 0.0, 0.1, 0.0, 0.1, 0.7, 0.0), strict=True))
HAPPY = dict(zip(EMOTIONS, (0.0, 0.0, 0.0, 0.8, 0.2, 0.0, 0.0), strict=True))


@pytest.fixture
def running_session(engine):
    """A session in progress: Uma's faces read sad, Carl's happy, two a second, until the end."""
    session_id, room = uuid.uuid4(), f"live-{uuid.uuid4().hex[:6]}"
    people = {"Upset Uma": (uuid.uuid4(), SAD), "Calm Carl": (uuid.uuid4(), HAPPY)}
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room=room, source="room",
                                            started_at=now, consultant="Ms Lee"))
        conn.execute(insert(Participant), [
            dict(id=pid, session_id=session_id, role="student", display_name=name,
                 joined_at=now, consent_at=now) for name, (pid, _) in people.items()])
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(engine, session_id, people, stop))
    feeder.start()
    yield room
    stop.set()
    feeder.join()


def _feed(engine, session_id, people, stop: threading.Event) -> None:
    seq = 0
    while not stop.wait(0.5):  # pacing, like a participant sampled at 2 fps
        captured = datetime.now(UTC)
        with engine.begin() as conn:
            for pid, face in people.values():
                insert_frame(conn, session_id, pid, seq, captured, face)
        seq += 1


def test_the_live_view_alerts_on_lasting_negative_expressions_only(page: Page, dashboard_url,
                                                                   running_session):
    page.goto(f"{dashboard_url}/live")
    session = page.locator(".live-session", has_text=running_session)
    uma, carl = (session.locator(".card", has_text=name) for name in ("Upset Uma", "Calm Carl"))
    expect(uma.locator(".dominant")).to_have_text("sad", timeout=30_000)
    expect(carl.locator(".dominant")).to_have_text("happy")
    expect(uma.locator(".alert")).to_contain_text("negative expressions", timeout=30_000)
    expect(carl.locator(".alert")).to_have_count(0)
    legend = session.locator(".timeline .legend")
    for name in ("Upset Uma", "Calm Carl"):
        expect(legend).to_contain_text(name)
    page.screenshot(path=ARTIFACTS / "dashboard-live.png", full_page=True)


def test_one_face_read_otherwise_does_not_change_the_live_reading(page: Page, dashboard_url,
                                                                   engine):
    """Six faces read happy over three seconds, then one read angry: the card shows the live
    reading (contracts.smoothing), still happy, not the last frame's anger."""
    session_id, person, room = uuid.uuid4(), uuid.uuid4(), f"live-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    angry = dict(zip(EMOTIONS, (0.9, 0.0, 0.0, 0.05, 0.05, 0.0, 0.0), strict=True))
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room=room, source="room",
                                            started_at=now - timedelta(seconds=5)))
        conn.execute(insert(Participant).values(id=person, session_id=session_id,
                                                role="client", display_name="Steady Sam",
                                                joined_at=now - timedelta(seconds=5),
                                                consent_at=now - timedelta(seconds=5)))
        for seq in range(6):
            insert_frame(conn, session_id, person, seq, now - timedelta(seconds=3 - seq / 2),
                         HAPPY)
        insert_frame(conn, session_id, person, 6, now, angry)
    page.goto(f"{dashboard_url}/live")
    card = page.locator(".live-session", has_text=room).locator(".card", has_text="Steady Sam")
    expect(card.locator(".dominant")).to_have_text("happy", timeout=30_000)
    # The newest frame counts for a fifth of the reading (2 s of frames): 0.9 / 5 of anger
    # shows as 18%.
    expect(card.locator(".bar", has_text="angry").locator(".fill")).to_have_attribute(
        "style", re.compile(r"width: 18%"))


def test_about_the_numbers_states_the_alerts_rule_as_configured(page: Page, dashboard_url):
    page.goto(f"{dashboard_url}/about")
    # The dashboard under test alerts after 3 s (tests/dashboard/conftest.py).
    expect(page.get_by_text("Lasting negativity.")).to_be_visible(timeout=30_000)
    about = page.locator("body")
    expect(about).to_contain_text("faces over the last 3 seconds read, on average, at least 60% "
                                  "negative")
    expect(about).to_contain_text("the consultant sees a quiet line on it in the room")
