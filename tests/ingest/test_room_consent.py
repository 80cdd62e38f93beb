"""Consent per kind of analysis in real browsers: each person chooses face analysis and voice
analysis apart (a consultant, voice alone), the join carries the choice, and one withdrawn
leaves the other on. The microphone goes through the SFU with echo cancellation; a page without
one still joins, and the consultant reads each person's voice on their tile (speaking, silent,
muted, no microphone, not analysed) and their own share of the talk beside the call; a teacher,
how many of the class's students have spoken, and who."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from contracts.invitations import RoomLinks
from contracts.schema import SpeechSegment
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.processes import wait_for
from tests.support.records import participant_named
from tests.support.rooms import join_call, named, signed_in

TIMEOUT_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots for review
# The page's computer has no microphone: asking for one fails as it then does.
NO_MICROPHONE = """
const withoutMicrophone = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => constraints.audio
  ? Promise.reject(new DOMException("Requested device not found", "NotFoundError"))
  : withoutMicrophone(constraints);
"""
# Keeps what the page asks of the camera and microphone in window.mediaRequests.
RECORD_MEDIA_REQUESTS = """
window.mediaRequests = [];
const recorded = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => {
  window.mediaRequests.push(constraints);
  return recorded(constraints);
};
"""
# The analyses the room told this page a person agreed to, by name.
CONSENT_OF = """name => [...state.peers.values()].find((e) => e.info.name === name)?.info.consent
  ?? null"""
# Whether this page receives the named person's sound through the SFU.
HEARS = """async (name) => {
  const [id] = [...state.peers].find(([, e]) => e.info.name === name) || [];
  const pc = state.watching.get(id);
  if (!pc) return false;
  return [...(await pc.getStats()).values()].some(
    (s) => s.type === "inbound-rtp" && s.kind === "audio" && s.packetsReceived > 0);
}"""
SHARE = re.compile(r"^· talk \d+% of the last 5 min, \d+% of the session$")


@dataclass
class Consultation:
    links: RoomLinks
    host: Page  # Dr Vera's, who agreed to voice analysis
    fay: Page  # face analysis only
    vic: Page  # voice analysis only, and no microphone
    mo: Page  # both, speaking into her microphone


@pytest.fixture(scope="module")
def launch(camera_y4m):
    """The module's browsers: Playwright runs once per thread."""
    with launcher(camera_y4m) as launch:
        yield launch


@pytest.fixture(scope="module")
def consultation(launch, ingest_url, speech_wav, engine, settings):
    vera = account(engine, username=f"Dr Vera {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, ingest_url, consultant=vera)
    host = signed_in(launch(), engine, vera, ingest_url).new_page()
    host.goto(links.own)
    join_call(host, "voice")
    guests = launch()
    fay = _guest(guests.new_context(), links, "Fay", "face")
    without_microphone = guests.new_context()
    without_microphone.add_init_script(NO_MICROPHONE)
    vic = _guest(without_microphone, links, "Vic", "voice")
    speaking = launch(speech_wav).new_context()
    speaking.add_init_script(RECORD_MEDIA_REQUESTS)
    mo = _guest(speaking, links, "Mo", "face", "voice")
    for page in (host, fay, vic, mo):
        expect(page.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
    return Consultation(links, host, fay, vic, mo)


@pytest.fixture(scope="module")
def lesson(launch, ingest_url, speech_wav, engine, settings) -> Page:
    """Ms Lee teaches, agreeing to voice analysis; Sam speaks, Tia has no microphone (both
    agreed to voice analysis), Uma agreed to no analysis. The teacher's page."""
    lee = account(engine, username=f"Ms Lee {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, ingest_url, "class", lee)
    browser = launch()
    host = signed_in(browser, engine, lee, ingest_url).new_page()
    host.goto(links.own)
    join_call(host, "voice")
    _guest(launch(speech_wav).new_context(), links, "Sam", "voice")
    without_microphone = browser.new_context()
    without_microphone.add_init_script(NO_MICROPHONE)
    _guest(without_microphone, links, "Tia", "voice")
    _guest(browser.new_context(), links, "Uma")
    return host


def _guest(context: BrowserContext, links: RoomLinks, name: str, *analyses: str) -> Page:
    page = context.new_page()
    page.goto(named(links.guests, quote(name)))
    join_call(page, *analyses)
    return page


def _voice(host: Page, name: str):
    """The line of the person ``name``'s tile that tells the consultant of their voice."""
    return host.locator("#participants .tile",
                        has=host.locator("figcaption", has_text=name)).locator(".voice")


def test_a_client_chooses_face_and_voice_analysis_apart(consultation):
    page = consultation.fay.context.new_page()
    page.goto(named(consultation.links.guests, "Quinn"))
    expect(page.locator("#consent")).to_contain_text(
        "your expressions and whether your face is in view, estimated from your video",
        timeout=TIMEOUT_MS)
    expect(page.locator("#consent")).to_contain_text(
        "when you speak and for how long — never what you say; no sound is recorded or stored")
    for analysis in ("face", "voice"):
        expect(page.locator(f"#consent-{analysis}")).not_to_be_checked()  # nothing chosen for them
    expect(page.locator("#join")).to_have_text("Join without analysis")
    page.check("#consent-voice")
    expect(page.locator("#join")).to_have_text("Join with voice analysis")
    page.check("#consent-face")
    expect(page.locator("#join")).to_have_text("Join with face and voice analysis")
    expect(page.locator("#consultant-share")).to_be_hidden()
    page.screenshot(path=ARTIFACTS / "room-consent-client.png", full_page=True)
    page.close()


def test_a_consultant_is_asked_about_their_voice_only(consultation):
    page = consultation.host.context.new_page()
    page.goto(consultation.links.own)
    expect(page.locator("#consent-voice")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#face-choice")).to_be_hidden()
    expect(page.locator("#consultant-intro")).to_contain_text("Your face is never analysed.")
    expect(page.locator("#consultant-share")).to_contain_text(
        "Your own share of the talk is half the measure")
    page.screenshot(path=ARTIFACTS / "room-consent-consultant.png", full_page=True)
    page.close()


def test_the_join_carries_what_each_person_chose(consultation, engine):
    host, room = consultation.host, consultation.links.room
    chosen = {"Fay": {"face": True, "voice": False}, "Vic": {"face": False, "voice": True},
              "Mo": {"face": True, "voice": True}}
    for name, consent in chosen.items():
        host.wait_for_function(f"() => ({CONSENT_OF})({name!r}) !== null", timeout=TIMEOUT_MS)
        assert host.evaluate(CONSENT_OF, name) == consent, name
        person = participant_named(engine, room.name, name)
        assert ((person.consent_at is not None, person.voice_consent_at is not None)
                == (consent["face"], consent["voice"])), name
    vera = participant_named(engine, room.name, room.consultant)
    assert vera.consent_at is None and vera.voice_consent_at is not None
    expect(host.locator("#status")).to_have_text("In the call; voice analysis is on")
    expect(consultation.fay.locator("#status")).to_have_text(
        "In the call; face analysis is on, voice analysis is off")
    expect(_voice(host, "Fay")).to_contain_text("voice not analysed", timeout=TIMEOUT_MS)


def test_a_page_without_a_microphone_joins_seen_and_the_consultant_reads_no_microphone(
        consultation):
    host, vic = consultation.host, consultation.vic
    expect(vic.locator("#no-microphone")).to_be_visible()
    expect(vic.locator("#microphone")).to_be_hidden()
    host.wait_for_function("name => [...document.querySelectorAll('#videos figure')].some("
                           "f => f.textContent.includes(name)"
                           " && f.querySelector('video').videoWidth > 0)", arg="Vic",
                           timeout=TIMEOUT_MS)
    expect(_voice(host, "Vic").locator(".speaking-state")).to_have_text("no microphone",
                                                                        timeout=TIMEOUT_MS)
    assert vic.evaluate("econsultConnections()[0].getSenders()"
                        ".map((s) => s.track && s.track.kind)") == ["video"]


def test_the_microphone_goes_through_the_sfu_with_echo_cancellation(consultation):
    asked = consultation.mo.evaluate("window.mediaRequests[0].audio")
    assert asked == {"echoCancellation": True, "noiseSuppression": True,
                     "autoGainControl": True}
    consultation.host.wait_for_function(HEARS, arg="Mo", timeout=TIMEOUT_MS)


def test_the_consultant_sees_who_speaks_and_the_share_of_the_talk(consultation):
    host = consultation.host
    mo = _voice(host, "Mo")
    expect(mo.locator(".speaking-state")).to_have_text("speaking", timeout=TIMEOUT_MS)
    expect(mo.locator(".talk-share")).to_have_text(SHARE, timeout=TIMEOUT_MS)
    expect(host.locator("#own-share")).to_have_text(re.compile(
        r"^Your share of the talk: \d+% in the last 5 minutes, \d+% this session\.$"))
    expect(host.locator("#spoken-count")).to_be_hidden()  # a consultation, not a class
    host.screenshot(path=ARTIFACTS / "room-talk-consultant.png", full_page=True)


def test_muting_shows_muted_to_the_consultant(consultation):
    host, mo = consultation.host, consultation.mo
    mo.click("#microphone")
    expect(mo.locator("#microphone")).to_have_text("Unmute")
    assert mo.evaluate("state.local.getAudioTracks()[0].enabled") is False
    expect(_voice(host, "Mo").locator(".speaking-state")).to_have_text("muted",
                                                                       timeout=TIMEOUT_MS)
    mo.click("#microphone")
    expect(mo.locator("#microphone")).to_have_text("Mute")
    expect(_voice(host, "Mo").locator(".speaking-state")).to_have_text(
        re.compile("^(speaking|silent)$"), timeout=TIMEOUT_MS)


def test_withdrawing_face_analysis_leaves_voice_analysis_on(consultation, engine):
    host, mo, room = consultation.host, consultation.mo, consultation.links.room.name
    mo.click("#toggle-face")
    expect(mo.locator("#status")).to_have_text(
        "In the call; face analysis is off, voice analysis is on", timeout=TIMEOUT_MS)
    expect(mo.locator("#toggle-voice")).to_have_text("Stop voice analysis")
    host.wait_for_function(f"() => !({CONSENT_OF})('Mo').face", timeout=TIMEOUT_MS)
    assert host.evaluate(CONSENT_OF, "Mo") == {"face": False, "voice": True}
    card = host.locator("#participants .participant", has_text="Mo")
    expect(card.locator(".dominant")).to_have_text("face not analysed (no consent)")
    wait_for(lambda: participant_named(engine, room, "Mo").consent_withdrawn_at is not None, 30,
             "Mo's withdrawal of face analysis to be stored")
    person = participant_named(engine, room, "Mo")
    assert person.voice_consent_withdrawn_at is None
    wait_for(lambda: _speech_since(engine, person.id, person.consent_withdrawn_at) > 0, 60,
             "Mo's speech after she withdrew face analysis")


def test_a_consultant_stops_and_allows_their_voice_analysis(consultation):
    host = consultation.host
    expect(host.locator("#toggle-face")).to_be_hidden()
    host.click("#toggle-voice")
    expect(host.locator("#status")).to_have_text("In the call; voice analysis is off")
    expect(host.locator("#own-share")).to_have_text(
        "Your share of the talk is not measured: your voice analysis is off.")
    host.click("#toggle-voice")
    expect(host.locator("#status")).to_have_text("In the call; voice analysis is on")


def test_a_teacher_sees_how_many_students_have_spoken_and_who(lesson):
    expect(lesson.locator("#spoken-count")).to_have_text(
        "1 of 3 students have spoken (1 not analysed)", timeout=TIMEOUT_MS)
    expect(_voice(lesson, "Sam").locator(".spoken")).to_have_text("· has spoken")
    expect(lesson.locator("#participants .tile.has-spoken")).to_have_count(1)
    expect(_voice(lesson, "Tia").locator(".speaking-state")).to_have_text("no microphone")
    expect(_voice(lesson, "Uma").locator(".speaking-state")).to_have_text("voice not analysed")
    expect(lesson.locator("#own-share")).to_have_text(re.compile(
        r"^Your share of the talk: \d+% in the last 5 minutes, \d+% this session\.$"))
    lesson.screenshot(path=ARTIFACTS / "room-talk-teacher.png", full_page=True)


def _speech_since(engine, participant_id: uuid.UUID, moment: datetime) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(SpeechSegment).where(
            SpeechSegment.participant_id == participant_id,
            SpeechSegment.started_at > moment))


def test_the_student_who_speaks_is_shown_large_on_the_teachers_stage(lesson):
    expect(lesson.locator("#stage")).to_be_visible(timeout=TIMEOUT_MS)
    expect(lesson.locator("#stage figcaption")).to_have_text("Sam")
    # The large layer (the fake camera's 640x480), not his thumbnail's.
    expect(lesson.locator("#stage-video")).to_have_js_property("videoWidth", 640,
                                                               timeout=TIMEOUT_MS)
