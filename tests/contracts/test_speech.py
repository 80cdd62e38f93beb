"""The measures of a conversation read from who spoke when: what each means, and the same
figures from Python (the live view) and from SQL (reports and the analysts' views)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from sqlalchemy import insert, text

from contracts.schema import Participant, Session, SpeechSegment
from contracts.speech import (
    QUIET_S,
    VIEWS_SQL,
    Segment,
    hints,
    interruptions,
    measures,
    response_pauses,
    silence,
    talk_share,
    turns,
)

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
DOCTOR, PATIENT = "doctor", "patient"


def test_talk_share_is_each_persons_part_of_everyones_talk():
    talk = [Segment(0, 30, DOCTOR), Segment(31, 41, PATIENT), Segment(42, 52, DOCTOR)]
    assert talk_share(talk) == pytest.approx({DOCTOR: 80.0, PATIENT: 20.0})
    assert talk_share(talk, since=30, until=60) == pytest.approx({DOCTOR: 50.0, PATIENT: 50.0})
    assert talk_share([]) == {}


def test_a_backchannel_takes_no_turn_and_a_turn_runs_until_someone_else_speaks():
    talk = [Segment(0, 5, DOCTOR), Segment(3, 3.5, PATIENT),  # "mm-hm"
            Segment(6, 12, DOCTOR), Segment(13, 20, PATIENT), Segment(21, 22, DOCTOR)]
    assert [(t.participant, t.start, t.end) for t in turns(talk)] == [
        (DOCTOR, 0, 12), (PATIENT, 13, 20), (DOCTOR, 21, 22)]
    assert response_pauses(talk) == [(PATIENT, 1.0), (DOCTOR, 1.0)]
    assert measures(talk)[DOCTOR].longest_monologue_s == 12
    assert measures(talk)[PATIENT].turns == 1


def test_starting_over_someone_mid_utterance_interrupts_them_a_backchannel_does_not():
    talk = [Segment(0, 11, PATIENT), Segment(10, 20, DOCTOR),   # cut off after 10 s
            Segment(21, 30, PATIENT), Segment(21.5, 22, DOCTOR),  # "right"
            Segment(40, 50, DOCTOR), Segment(40.5, 45, PATIENT)]  # both start at once
    assert [(i.by, i.of, i.at) for i in interruptions(talk)] == [(DOCTOR, PATIENT, 10)]
    patient = measures(talk)[PATIENT]
    assert (patient.times_interrupted, patient.spoke_before_interrupted_s) == (1, 10)
    assert measures(talk)[DOCTOR].spoke_before_interrupted_s is None
    # The patient answered after 1 s, then at once (starting over the doctor counts as 0 s).
    assert measures(talk)[PATIENT].median_response_pause_s == 0.5


def test_silence_is_the_time_between_first_and_last_speech_when_nobody_spoke():
    talk = [Segment(0, 10, DOCTOR), Segment(5, 12, PATIENT), Segment(20, 25, DOCTOR),
            Segment(26, 27, PATIENT)]
    assert silence(talk) == (9.0, 8.0)
    assert silence([]) == (0.0, 0.0)


def test_the_consultant_is_told_when_they_talk_most_cut_someone_off_or_someone_is_quiet():
    roles, names = {DOCTOR: "consultant", PATIENT: "client"}, {PATIENT: "Ann"}
    lecture = [Segment(0, 170, DOCTOR), Segment(171, 180, PATIENT)]
    assert hints(lecture, roles, names, now=180) == [
        "You have done 95% of the talking in the last 3 minutes."]
    cut = [Segment(0, 20, PATIENT), Segment(15, 25, DOCTOR)]
    assert hints(cut, roles, names, now=30) == ["Ann was cut off mid-sentence."]
    assert hints(cut, roles, names, now=60) == []
    quiet = [Segment(0, 10, PATIENT), Segment(11, 30, DOCTOR), Segment(100, 120, DOCTOR)]
    assert hints(quiet, roles, names, now=10 + QUIET_S) == ["Ann has not spoken for 2 minutes."]
    never = [Segment(0, 10, DOCTOR), Segment(100, 125, DOCTOR)]
    assert hints(never, roles, names, now=5 + QUIET_S) == ["Ann has not spoken for 2 minutes."]
    assert hints(never, roles, names, now=125 + QUIET_S) == []  # nobody spoke meanwhile


def test_the_consultants_share_is_not_hinted_when_nobody_else_is_heard():
    alone = [Segment(0, 170, DOCTOR)]
    assert hints(alone, {DOCTOR: "consultant"}, {}, now=180) == []


def _conversation(rng: random.Random, people: list[uuid.UUID]) -> list[Segment]:
    """Talk with turns, pauses, backchannels and overlaps, each person's utterances apart."""
    talk, free = [], dict.fromkeys(people, 0.0)
    at = 0.0
    for _ in range(60):
        who = rng.choice(people)
        overlap = rng.random() < 0.3
        start = max(at + (rng.uniform(-5.0, 0.0) if overlap else rng.uniform(0.0, 3.0)), free[who])
        end = start + rng.choice([rng.uniform(0.2, 0.9), rng.uniform(1.0, 12.0)])
        talk.append(Segment(round(start, 3), round(end, 3), who))
        free[who], at = end + 0.3, end
    return talk


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_views_give_the_python_measures(engine, seed):
    rng = random.Random(seed)
    session_id = uuid.uuid4()
    people = sorted(uuid.uuid4() for _ in range(3))
    talk = _conversation(rng, people)
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room="speech", source="room",
                                            started_at=START))
        conn.execute(insert(Participant), [
            dict(id=who, session_id=session_id, role="client", display_name="P", joined_at=START)
            for who in people])
        conn.execute(insert(SpeechSegment), [
            dict(session_id=session_id, participant_id=s.participant, capture_id=s.participant,
                 seq=seq, started_at=START + timedelta(seconds=s.start),
                 ended_at=START + timedelta(seconds=s.end)) for seq, s in enumerate(talk)])
        summary = {row.participant_id: row for row in conn.execute(text(
            "SELECT * FROM speech_summary WHERE session_id = :id"), {"id": session_id})}
        session = conn.execute(text("SELECT * FROM session_speech WHERE session_id = :id"),
                               {"id": session_id}).one()
    python = measures(talk)
    assert set(summary) == set(python)
    for who, expected in python.items():
        row = summary[who]
        assert (row.turns, row.interruptions_made, row.times_interrupted) == (
            expected.turns, expected.interruptions_made, expected.times_interrupted)
        for name in ("talk_s", "share", "longest_monologue_s", "spoke_before_interrupted_s",
                     "median_response_pause_s"):
            column = "talk_share" if name == "share" else name
            assert getattr(row, column) == pytest.approx(getattr(expected, name), abs=1e-3), name
    assert (session.silence_s, session.longest_silence_s) == pytest.approx(silence(talk),
                                                                            abs=1e-3)
    assert sum(m.times_interrupted for m in python.values()) > 0  # the seeds do interrupt


def test_the_migration_creates_the_views_of_the_contract():
    views = import_module("migrations.versions.0009_speech_activity")
    assert views.VIEWS == VIEWS_SQL
