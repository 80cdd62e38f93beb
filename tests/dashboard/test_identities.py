"""People are identities, not names: three students called Tina are three people in the report,
its CSV and the live view, and everyone's consent is shown as it was given and withdrawn."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert

from contracts.labels import EMOTIONS
from contracts.schema import ConsentChange, Participant, Session
from tests.support.records import insert_frame
from tests.support.summaries import summarise

MOODS = [dict(zip(EMOTIONS, p, strict=True)) for p in (
    (0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0), (0.1, 0.0, 0.1, 0.0, 0.1, 0.7, 0.0),
    (0.0, 0.0, 0.0, 0.1, 0.9, 0.0, 0.0))]


def _class(engine, started: datetime, ended: datetime | None) -> tuple[str, list[uuid.UUID]]:
    """Three Tinas, each with a mood of her own, one of whom withdrew; Una, who declined."""
    session_id, room = uuid.uuid4(), f"tinas-{uuid.uuid4().hex[:6]}"
    tinas = [uuid.uuid4() for _ in MOODS]
    withdrawn = started + timedelta(seconds=30)
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room=room, source="room",
                                            started_at=started, ended_at=ended,
                                            end_reason=ended and "ended", consultant="Ms Lee"))
        conn.execute(insert(Participant), [
            dict(id=pid, session_id=session_id, role="student", display_name="Tina",
                 joined_at=started + timedelta(seconds=i), consent_at=started,
                 consent_withdrawn_at=withdrawn if i == 2 else None)
            for i, pid in enumerate(tinas)])
        conn.execute(insert(Participant).values(id=uuid.uuid4(), session_id=session_id,
                                                role="student", display_name="Una",
                                                joined_at=started))
        conn.execute(insert(ConsentChange), [
            *(dict(participant_id=pid, at=started, given=True) for pid in tinas),
            dict(participant_id=tinas[2], at=withdrawn, given=False)])
        for pid, mood in zip(tinas, MOODS, strict=True):
            for seq in range(20):
                insert_frame(conn, session_id, pid, seq, started + timedelta(seconds=seq), mood)
    summarise(engine)
    return room, tinas


@pytest.fixture
def ended_class(engine):
    started = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    return _class(engine, started, started + timedelta(minutes=5))


def test_the_report_and_its_csv_keep_three_people_of_one_name_apart(page: Page, dashboard_url,
                                                                     ended_class, tmp_path):
    room, tinas = ended_class
    page.goto(dashboard_url)
    page.click(f"text={room}")
    sections = page.locator("section.participant")
    expect(sections).to_have_count(4, timeout=30_000)
    for number, mood in enumerate(("happy 100%", "sad 100%", "neutral 100%"), start=1):
        tina = sections.filter(has_text=f"Tina ({number}) (student)")
        expect(tina.locator(".shares")).to_have_text(
            f"Leading expression of the live reading: {mood}")
    expect(sections.filter(has_text="Tina (3)")).to_contain_text(
        "Face analysis: consent given 09:00:00 · withdrawn 09:00:30: not analysed since the "
        "withdrawal")
    expect(sections.filter(has_text="Una")).to_contain_text("Face analysis: declined")
    with page.expect_download() as download:
        page.click("#csv-button")
    download.value.save_as(tmp_path / "report.csv")
    with (tmp_path / "report.csv").open() as rows:
        people = {(row["participant_id"], row["participant"]) for row in csv.DictReader(rows)}
    assert people == {(str(pid), f"Tina ({i})") for i, pid in enumerate(tinas, start=1)}


def test_the_live_view_shows_each_tina_on_her_own_card(page: Page, dashboard_url, engine):
    room, _ = _class(engine, datetime.now(UTC) - timedelta(seconds=15), None)
    page.goto(f"{dashboard_url}/live")
    session = page.locator(".live-session", has_text=room)
    for number, state in ((1, "happy"), (2, "sad"), (3, "not analysed (consent withdrawn)")):
        expect(session.locator(".card", has_text=f"Tina ({number})")).to_contain_text(
            state, timeout=30_000)
    expect(session.locator(".card", has_text="Una")).to_contain_text("not analysed (declined)")
