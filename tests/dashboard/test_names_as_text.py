"""Names are text: a consultant, participant or room named in HTML reads as the characters typed,
on every page and in every chart (Plotly draws tags in legends, hover labels and titles), and
never becomes a link, bold text or an image."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import insert

from contracts.labels import EMOTIONS
from contracts.schema import Participant, Session, SpeechSegment
from tests.support.records import insert_frame
from tests.support.summaries import summarise

LINK = '<a href="https://example.org/x">Dr Link</a>'
BOLD = "<b>Bold</b> Carla"
IMAGE = "<img src=x onerror=alert(1)>"
SAD = dict(zip(EMOTIONS, (0.1, 0.0, 0.1, 0.0, 0.1, 0.7, 0.0), strict=True))
HAPPY = dict(zip(EMOTIONS, (0.0, 0.0, 0.0, 0.8, 0.2, 0.0, 0.0), strict=True))
FACES = 40


def _session(engine, started: datetime, ended: datetime | None, consultant: str = LINK,
             faces: dict[str, dict[str, float]] | None = None) -> tuple[uuid.UUID, str]:
    """A session in a room named in HTML, by default Dr Link's, where Carla's faces read sad
    and the image's happy (``faces``: each client's reading by name), one a second. Everyone's
    voice is analysed: the consultant speaks first and the first client cuts in."""
    session_id, room = uuid.uuid4(), f"<i>Room</i> {uuid.uuid4().hex[:6]}"
    lead = uuid.uuid4()
    clients = {uuid.uuid4(): (name, face)
               for name, face in (faces or {BOLD: SAD, IMAGE: HAPPY}).items()}
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room=room, source="room",
                                            started_at=started, ended_at=ended,
                                            end_reason=ended and "ended", consultant=consultant))
        conn.execute(insert(Participant), [
            dict(id=lead, session_id=session_id, role="consultant", display_name=consultant,
                 joined_at=started, voice_consent_at=started),
            *(dict(id=pid, session_id=session_id, role="client", display_name=name,
                   joined_at=started, consent_at=started, voice_consent_at=started)
              for pid, (name, _) in clients.items())])
        for pid, (_, face) in clients.items():
            for seq in range(FACES):
                insert_frame(conn, session_id, pid, seq, started + timedelta(seconds=seq), face)
        conn.execute(insert(SpeechSegment), [
            dict(session_id=session_id, participant_id=pid, capture_id=pid, seq=0,
                 started_at=started + timedelta(seconds=start),
                 ended_at=started + timedelta(seconds=start + length))
            for pid, start, length in ((lead, 0, 10), *((pid, 5 + 10 * i, 3) for i, pid in
                                                        enumerate(clients)))])
    summarise(engine)
    return session_id, room


@pytest.fixture
def ended_session(engine) -> tuple[uuid.UUID, str]:
    """Dr Link's session weeks back, and a happier one of Ms Lee's that week: on the History
    chart Dr Link's week is a point of its own, on one of two lines (a hover label names its
    line when there is more than one)."""
    started = datetime.now(UTC) - timedelta(weeks=3)
    _session(engine, started, started + timedelta(seconds=FACES), consultant="Ms Lee",
             faces={"Pat": HAPPY})
    return _session(engine, started, started + timedelta(seconds=FACES))


@pytest.fixture
def running_session(engine) -> str:
    return _session(engine, datetime.now(UTC) - timedelta(seconds=FACES), None)[1]


def test_history_shows_a_consultant_named_in_html_as_text(page: Page, dashboard_url,
                                                          ended_session):
    _, room = ended_session
    page.goto(f"{dashboard_url}/history")
    chart = page.locator("#weekly")
    entry = chart.locator(".legend .traces", has_text=LINK)
    expect(entry).to_have_count(1, timeout=30_000)
    expect(page.locator("#comparison-table")).to_contain_text(LINK)
    expect(page.locator("#weekly-talk .legend .traces", has_text=LINK)).to_have_count(1)
    expect(page.locator("#history-sessions tr", has_text=room)).to_contain_text(LINK)
    # Legend entries and traces come in the same order: hover Dr Link's week.
    names = chart.locator(".legend .traces").all_text_contents()
    _hover(page, chart.locator(".scatterlayer .trace").nth(names.index(LINK))
           .locator(".point").first)
    expect(chart.locator(".hoverlayer")).to_contain_text(LINK)
    page.click("#consultant")
    page.get_by_role("option", name=LINK).click()
    sessions = page.locator("#history-sessions")
    expect(sessions).not_to_contain_text("Ms Lee")
    expect(sessions.locator("tr", has_text=room)).to_contain_text(LINK)
    _expect_no_markup_from_names(page)


def test_a_report_shows_people_and_a_room_named_in_html_as_text(page: Page, dashboard_url,
                                                                ended_session):
    session_id, room = ended_session
    page.goto(f"{dashboard_url}/report/{session_id}")
    expect(page.locator("h2")).to_contain_text(room, timeout=30_000)
    expect(page.locator("#summary")).to_contain_text(f"Consultant {LINK} · quality")
    sections = page.locator("section.participant")
    for label in (f"{LINK} (consultant)", f"{BOLD} (client)", f"{IMAGE} (client)"):
        expect(sections.locator("h3", has_text=label)).to_have_count(1)
    expect(page.locator(".js-plotly-plot .legend").first).to_contain_text("sad")
    expect(page.locator(".js-plotly-plot")).to_have_count(5)
    timeline = page.locator("#speech-timeline")
    expect(timeline.locator(".ytick")).to_have_count(3)
    _hover(page, timeline.locator(".scatterlayer .point").first)  # the consultant, cut off
    expect(timeline.locator(".hoverlayer")).to_contain_text(f"{LINK} cut off by {BOLD}")
    _expect_no_markup_from_names(page)


def test_the_live_view_shows_clients_named_in_html_as_text(page: Page, dashboard_url,
                                                           running_session):
    page.goto(f"{dashboard_url}/live")
    session = page.locator(".live-session", has_text=running_session)
    expect(session.locator("h3")).to_have_text(running_session, timeout=30_000)
    legend = session.locator(".timeline .legend")
    for name in (BOLD, IMAGE):
        expect(session.locator(".card h4", has_text=name)).to_have_count(1)
        expect(legend).to_contain_text(name)
    for name in (LINK, BOLD, IMAGE):
        expect(session.locator(".talk .voice .who", has_text=name)).to_have_count(1)
    _expect_no_markup_from_names(page)


def _hover(page: Page, point: Locator) -> None:
    """The mouse over a chart's point (Plotly hovers through a layer above its points)."""
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _expect_no_markup_from_names(page: Page) -> None:
    """Nothing the names spell became markup: no link, bold, italics or image on the page, nor
    the bold and italic text Plotly draws for <b> and <i>. Call once the names show."""
    for markup, text in (("a", "Dr Link"), ("b", "Bold"), ("i", "Room"),
                         (".js-plotly-plot tspan[style*=bold]", "Bold"),
                         (".js-plotly-plot tspan[style*=italic]", "Room")):
        expect(page.locator(markup, has_text=text)).to_have_count(0)
    expect(page.locator("img[src=x]")).to_have_count(0)
