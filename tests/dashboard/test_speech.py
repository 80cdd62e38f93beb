"""Who spoke when: a session's report shows each analysed person's talk share, turns and
interruptions as the views give them, its speech CSV carries them, History shows each
consultant's share of the talk week by week, and the live view says who is speaking, each
share and the consultant's hints. People without voice consent show as not analysed."""

from __future__ import annotations

import csv
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, update

from contracts.schema import ConsentChange, Participant, Session, SpeechSegment
from dashboard.speech_accuracy import accuracy_text
from dashboard.voice import stood
from tests.dashboard.conftest import ARTIFACTS
from tests.support.summaries import summarise

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Dr Vox talks 30 s; Ann answers after 1 s and, 9 s in, is cut off by Dr Vox (10 s), who stops
# 2 s before Ann's last 10 s: Dr Vox 40 s of 60 (67%), 2 turns each, 3 s of silence.
TALK = (("doctor", 0, 30), ("ann", 31, 41), ("doctor", 40, 50), ("ann", 52, 62))


@pytest.fixture(scope="module")
def conversation(engine) -> tuple[uuid.UUID, str, str]:
    """An ended consultation: Dr Vox and Ann agreed to voice analysis (Ann withdrew it after
    70 s), Nell did not."""
    session_id, room = uuid.uuid4(), f"speech-{uuid.uuid4().hex[:6]}"
    consultant = f"Dr Vox {uuid.uuid4().hex[:4]}"
    ids = {"doctor": uuid.uuid4(), "ann": uuid.uuid4(), "nell": uuid.uuid4()}
    withdrawn = START + timedelta(seconds=70)
    with engine.begin() as conn:
        conn.execute(insert(Session).values(
            id=session_id, room=room, source="room", consultant=consultant, started_at=START,
            ended_at=START + timedelta(minutes=2), end_reason="ended"))
        conn.execute(insert(Participant), [
            _person(ids["doctor"], session_id, "consultant", consultant, voice_at=START),
            _person(ids["ann"], session_id, "client", "Ann", voice_at=START, consent_at=START,
                    voice_withdrawn_at=withdrawn),
            _person(ids["nell"], session_id, "client", "Nell", consent_at=START)])
        conn.execute(insert(ConsentChange), [
            dict(participant_id=ids["doctor"], at=START, given=True, analysis="voice"),
            dict(participant_id=ids["ann"], at=START, given=True, analysis="face"),
            dict(participant_id=ids["ann"], at=START, given=True, analysis="voice"),
            dict(participant_id=ids["ann"], at=withdrawn, given=False, analysis="voice"),
            dict(participant_id=ids["nell"], at=START, given=True, analysis="face")])
        conn.execute(insert(SpeechSegment), [
            _segment(session_id, ids[who], seq, START + timedelta(seconds=start),
                     START + timedelta(seconds=end))
            for seq, (who, start, end) in enumerate(TALK)])
    summarise(engine)
    return session_id, room, consultant


def _person(pid, session_id, role, name, voice_at=None, consent_at=None,
            voice_withdrawn_at=None) -> dict:
    return dict(id=pid, session_id=session_id, role=role, display_name=name, joined_at=START,
                consent_at=consent_at, voice_consent_at=voice_at,
                voice_consent_withdrawn_at=voice_withdrawn_at)


def _segment(session_id, pid, seq, started_at, ended_at) -> dict:
    return dict(session_id=session_id, participant_id=pid, capture_id=pid, seq=seq,
                started_at=started_at, ended_at=ended_at)


def test_the_report_shows_who_spoke_when_and_each_persons_measures(page: Page, dashboard_url,
                                                                   conversation):
    session_id, _, consultant = conversation
    page.goto(f"{dashboard_url}/report/{session_id}")
    table = page.locator("#speech-table")
    doctor, ann, nell = (table.locator("tr", has_text=name)
                         for name in (consultant, "Ann", "Nell"))
    cells = ["67%", "40 s", "2", "30 s", "1", "0", "not interrupted", "0.0 s"]
    expect(doctor.locator("td")).to_have_text([consultant, *cells], timeout=30_000)
    expect(ann.locator("td")).to_have_text(
        ["Ann", "33%", "20 s", "2", "10 s", "0", "1", "9 s", "1.5 s"])
    # How long a client spoke before being cut off is what the report points at.
    expect(ann.locator("td.before-cut.highlight")).to_have_count(1)
    expect(doctor.locator("td.highlight")).to_have_count(0)
    expect(nell).to_contain_text("not analysed (no voice consent)")
    expect(page.locator("#speech .not-analysed").last).to_contain_text(
        "Not analysed (no voice consent): Nell. They were not silent")
    expect(page.locator("#silence")).to_contain_text("3 s · longest 2 s")
    timeline = page.locator("#speech-timeline")
    # A row for each person analysed (Plotly draws a reversed axis's ticks bottom first).
    expect(timeline.locator(".ytick")).to_have_text(["Ann", consultant])
    expect(timeline.locator(".scatterlayer .point")).to_have_count(1)  # Ann, cut off
    expect(timeline.locator(".barlayer .point")).to_have_count(len(TALK))
    page.screenshot(path=ARTIFACTS / "dashboard-report-speech.png", full_page=True)


def test_the_report_shows_face_and_voice_consent_apart(page: Page, dashboard_url,
                                                       conversation):
    session_id, _, consultant = conversation
    page.goto(f"{dashboard_url}/report/{session_id}")
    sections = page.locator("section.participant")
    doctor, ann, nell = (sections.filter(has_text=f"{name} (") for name in
                         (consultant, "Ann", "Nell"))
    expect(doctor.locator(".consent.face")).to_have_text(
        "Face analysis: consultants' faces are not analysed.", timeout=30_000)
    expect(doctor.locator(".consent.voice")).to_have_text("Voice analysis: analysed from 09:00:00.")
    expect(ann.locator(".consent.voice")).to_have_text(
        "Voice analysis: analysed 09:00:00–09:01:10.")
    expect(ann.locator(".consent.face")).to_contain_text("Face analysis: consent given 09:00:00")
    expect(nell.locator(".consent.voice")).to_have_text(
        "Voice analysis: no consent, not analysed (not silent: not recorded).")


def test_the_speech_csv_has_each_persons_measures(page: Page, dashboard_url, conversation,
                                                  tmp_path):
    session_id, _, consultant = conversation
    page.goto(f"{dashboard_url}/report/{session_id}")
    expect(page.locator("#speech-table")).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        page.click("#speech-csv-button")
    download.value.save_as(tmp_path / "speech.csv")
    with (tmp_path / "speech.csv").open() as rows:
        people = {row["participant"]: row for row in csv.DictReader(rows)}
    assert set(people) == {consultant, "Ann", "Nell"}
    ann, doctor, nell = people["Ann"], people[consultant], people["Nell"]
    assert float(ann["talk_s"]) == pytest.approx(20) and float(ann["talk_share"]) == \
        pytest.approx(100 / 3)
    assert (ann["turns"], ann["interruptions_made"], ann["times_interrupted"]) == ("2", "0", "1")
    assert float(ann["spoke_before_interrupted_s"]) == pytest.approx(9)
    assert float(ann["median_response_pause_s"]) == pytest.approx(1.5)
    assert (doctor["role"], doctor["interruptions_made"], doctor["spoke_before_interrupted_s"]
            ) == ("consultant", "1", "")
    assert float(doctor["longest_monologue_s"]) == pytest.approx(30)
    # Not analysed is not silent: no figure at all, not zero.
    assert (nell["voice_consent"], nell["analysed"], nell["talk_s"], nell["talk_share"]) == (
        "declined", "False", "", "")


def test_history_shows_the_consultants_share_of_the_talk_and_interruptions(
        page: Page, dashboard_url, conversation):
    _, _, consultant = conversation
    page.goto(f"{dashboard_url}/history")
    row = page.locator("#comparison-table tr", has_text=consultant)
    expect(row.locator("td")).to_have_text([consultant, "0", "–", "–", "1", "67%", "1.0"],
                                           timeout=30_000)
    expect(page.locator("#weekly-talk .legend")).to_contain_text(consultant)
    expect(page.locator("#weekly-interruptions .legend")).to_contain_text(consultant)


@pytest.fixture
def lecture(engine):
    """A consultation going on: Coach Kay talked for 150 s of the last three minutes, Lou is
    speaking now (her segment grows, as ingest stores it), Mo did not agree to voice
    analysis."""
    session_id, room = uuid.uuid4(), f"talk-{uuid.uuid4().hex[:6]}"
    kay, lou, mo = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    began = now - timedelta(seconds=200)
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room=room, source="room",
                                            started_at=began))
        conn.execute(insert(Participant), [
            _person(kay, session_id, "consultant", "Coach Kay", voice_at=began),
            _person(lou, session_id, "client", "Lou", voice_at=began),
            _person(mo, session_id, "client", "Mo")])
        conn.execute(insert(SpeechSegment), [
            _segment(session_id, kay, 0, now - timedelta(seconds=170),
                     now - timedelta(seconds=20)),
            _segment(session_id, lou, 0, now - timedelta(seconds=3), now)])
    stop = threading.Event()
    speaking = threading.Thread(target=_keep_speaking, args=(engine, lou, stop))
    speaking.start()
    yield room
    stop.set()
    speaking.join()


def _keep_speaking(engine, participant: uuid.UUID, stop: threading.Event) -> None:
    while not stop.wait(0.5):  # pacing, as ingest reports a growing segment
        with engine.begin() as conn:
            conn.execute(update(SpeechSegment).where(SpeechSegment.participant_id == participant)
                         .values(ended_at=datetime.now(UTC)))


def test_the_live_view_says_who_speaks_each_share_and_the_consultants_hint(
        page: Page, dashboard_url, lecture):
    page.goto(f"{dashboard_url}/live")
    talk = page.locator(".live-session", has_text=lecture).locator(".talk")
    expect(talk.locator(".hints")).to_contain_text(
        re.compile(r"You have done \d+% of the talking in the last 3 minutes\."),
        timeout=30_000)
    kay, lou, mo = (talk.locator(".voice", has_text=name) for name in ("Coach Kay", "Lou", "Mo"))
    expect(lou.locator(".speaking")).to_have_text("speaking")
    expect(kay.locator(".speaking")).to_have_count(0)
    expect(kay.locator(".share")).to_have_text(re.compile(r"^(8\d|9\d)%$"))
    expect(mo).to_contain_text("not analysed (no voice consent)")
    expect(mo.locator(".share")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "dashboard-live-talk.png", full_page=True)


def test_about_the_numbers_defines_the_speech_measures(page: Page, dashboard_url):
    page.goto(f"{dashboard_url}/about")
    body = page.locator("body")
    expect(body).to_contain_text("an utterance shorter than 1 s", timeout=30_000)
    expect(body).to_contain_text("never records what is said, and no sound is kept")
    expect(body).to_contain_text("they are not silent")
    expect(body).to_contain_text(accuracy_text().replace("`", ""))  # code spans lose their `


def test_the_detectors_accuracy_is_written_from_its_figures():
    figures = {"measured_on": "its labelled corpus, 6 Dec 2026", "speech_found": 0.934,
               "false_in_quiet": 0.041, "false_in_noise": 0.153, "leak_taken": 0.012,
               "talk_share_error": 2.46}
    assert accuracy_text(figures) == (
        "Measured by `econsult bench speech` on its labelled corpus, 6 Dec 2026: the detector "
        "found 93% of the speech; it called speech 4% of the rest in a quiet room (mostly the "
        "ends of words) and 15% of it with noise 10 dB below the voice, and 1% of the other "
        "person's voice leaking into a microphone; a person's talk share was off by 2.5 points "
        "on average.")


def test_voice_consent_stood_between_each_consent_and_the_next_withdrawal():
    at = [START + timedelta(seconds=s) for s in (0, 10, 20, 20, 30)]
    changes = [dict(at=at[0], given=True), dict(at=at[1], given=False),
               dict(at=at[2], given=True), dict(at=at[3], given=False),  # withdrawn at once
               dict(at=at[4], given=True)]
    assert stood(changes) == [(at[0], at[1]), (at[4], None)]
