"""Talk measured end to end: real browsers whose fake microphones speak known sentences on a
known beat, through Janus, ingest's voice activity detector and a worker, into the stored
speech segments. Each person's stored talk share is their share of what their microphone
played; voice analysis stops with its consent, and is never begun without it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from contracts.invitations import RoomLinks
from contracts.schema import Participant, Sample, SpeechSegment
from contracts.speech import Segment, talk_share
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.processes import wait_for
from tests.support.records import participant_named
from tests.support.rooms import join_call, named, signed_in
from tests.support.voices import looped_speech

TIMEOUT_MS = 60_000
BEAT_S = 8.0  # each microphone speaks one sentence every BEAT_S seconds, looped
WINDOW_BEATS = 6  # talk measured over this many whole beats, whatever each loop's phase
DOCTOR = ("I would like to go through the results of your blood tests with you today", "en-us+m3")
PATIENT = ("I have been waiting for them all week", "en-gb+f3")
SHARE_POINTS = 3.0  # how far a stored talk share may be from the played one


@dataclass
class Call:
    links: RoomLinks
    spoken_s: dict[str, float]  # by name: how long each sentence lasts
    ann: Page  # both analyses
    bo: Page  # face analysis only, speaking all the same


@pytest.fixture(scope="module")
def call(camera_y4m, tmp_path_factory, ingest_url, engine, settings):
    folder = tmp_path_factory.mktemp("talk")
    vera = account(engine, username=f"Dr Vera {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, ingest_url, consultant=vera)
    spoken_s = {links.room.consultant: looped_speech(folder / "doctor.wav", *DOCTOR, BEAT_S),
                "Ann": looped_speech(folder / "patient.wav", *PATIENT, BEAT_S)}
    with launcher(camera_y4m) as launch:
        host = signed_in(launch(folder / "doctor.wav"), engine, vera, ingest_url).new_page()
        host.goto(links.own)
        join_call(host, "voice")
        ann = _guest(launch(folder / "patient.wav").new_context().new_page(), links, "Ann",
                     "face", "voice")
        bo = _guest(launch(folder / "patient.wav").new_context().new_page(), links, "Bo",
                    "face")
        for page in (host, ann, bo):
            expect(page.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        yield Call(links, spoken_s, ann, bo)


def test_the_stored_talk_shares_are_those_the_microphones_played(call, engine):
    people = {name: participant_named(engine, call.links.room.name, name).id
              for name in call.spoken_s}
    wait_for(lambda: all(_segments(engine, who) for who in people.values()), 60,
             "speech of both the consultant and Ann to be stored")
    start = max(_segments(engine, who)[0].started_at for who in people.values())
    end = start + timedelta(seconds=WINDOW_BEATS * BEAT_S)
    # A segment begun a beat after the window shows every segment inside it has ended.
    wait_for(lambda: all(_segments(engine, who)[-1].started_at > end + timedelta(seconds=BEAT_S)
                         for who in people.values()), WINDOW_BEATS * BEAT_S + 60,
             f"{WINDOW_BEATS + 1} beats of both people's speech to be stored")
    stored = talk_share([Segment(max(s.started_at, start).timestamp(),
                                 min(s.ended_at, end).timestamp(), name)
                         for name, who in people.items() for s in _segments(engine, who)
                         if s.ended_at > start and s.started_at < end])
    played = talk_share([Segment(0.0, spoken, name) for name, spoken in call.spoken_s.items()])
    for name in people:
        assert abs(stored[name] - played[name]) <= SHARE_POINTS, (name, stored, played)


def test_declining_voice_analysis_stores_faces_and_no_speech(call, engine):
    room = call.links.room.name
    bo, ann = (participant_named(engine, room, name) for name in ("Bo", "Ann"))
    assert bo.voice_consent_at is None and bo.consent_at is not None
    wait_for(lambda: _frames(engine, bo.id) > 0, 60, "Bo's frames to be stored")
    # Bo's microphone plays what Ann's does: by the time Ann's speech after Bo's frames is
    # stored, Bo's would have been too.
    since = datetime.now().astimezone()
    wait_for(lambda: any(s.started_at > since for s in _segments(engine, ann.id)), 60,
             "Ann's speech to be stored")
    assert _segments(engine, bo.id) == []


def test_withdrawing_voice_analysis_stops_it_at_once(call, engine):
    ann, room = call.ann, call.links.room.name
    ann.click("#toggle-voice")
    expect(ann.locator("#status")).to_have_text(
        "In the call; face analysis is on, voice analysis is off", timeout=TIMEOUT_MS)

    def person() -> Participant:
        return participant_named(engine, room, "Ann")
    wait_for(lambda: person().voice_consent_withdrawn_at is not None, 30,
             "Ann's withdrawal of voice analysis to be stored")
    withdrawn = person().voice_consent_withdrawn_at
    doctor = participant_named(engine, room, call.links.room.consultant).id
    wait_for(lambda: any(s.started_at > withdrawn + timedelta(seconds=2 * BEAT_S)
                         for s in _segments(engine, doctor)), 60,
             "the consultant's speech two beats after Ann's withdrawal to be stored")
    # Her last sentence may have begun before she withdrew; it ends when she did.
    assert all(s.ended_at <= withdrawn + timedelta(seconds=0.5)
               for s in _segments(engine, person().id))
    assert person().consent_withdrawn_at is None  # face analysis goes on


def _guest(page: Page, links: RoomLinks, name: str, *analyses: str) -> Page:
    page.goto(named(links.guests, quote(name)))
    join_call(page, *analyses)
    return page


def _segments(engine, participant_id: uuid.UUID) -> list[SpeechSegment]:
    with engine.connect() as conn:
        return list(conn.execute(select(SpeechSegment).where(
            SpeechSegment.participant_id == participant_id).order_by(SpeechSegment.started_at)))


def _frames(engine, participant_id: uuid.UUID) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Sample).where(
            Sample.participant_id == participant_id))

