"""Speech segments from the stream: stored while voice consent stands, grown as the person goes on
speaking, never stored for someone who gave only face consent or after a withdrawal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from contracts.room_events import RoomEvent, publish_room_event
from contracts.schema import ConsentChange, SpeechSegment
from contracts.stream import StreamKeys
from tests.support.processes import wait_for


def _publish(redis_client, settings, *events: RoomEvent) -> None:
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    for event in events:
        publish_room_event(redis_client, keys, event)


def _join(redis_client, settings, started: datetime, voice: bool, face: bool = False
          ) -> tuple[uuid.UUID, uuid.UUID]:
    session_id, person = uuid.uuid4(), uuid.uuid4()
    _publish(redis_client, settings,
             RoomEvent("session_started", session_id, started, room="speech", source="room"),
             RoomEvent("participant_joined", session_id, started, participant_id=person,
                       role="client", display_name="Ann", consent_at=started if face else None,
                       voice_consent_at=started if voice else None))
    return session_id, person


def _spoke(session_id, person, capture, seq, start, end) -> RoomEvent:
    return RoomEvent("speech", session_id, start, participant_id=person, capture_id=capture,
                     seq=seq, until=end)


def _segments(engine, person) -> list[tuple[datetime, datetime]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(SpeechSegment.started_at, SpeechSegment.ended_at)
            .where(SpeechSegment.participant_id == person).order_by(SpeechSegment.started_at))]


def _consents(engine, person) -> set[tuple[str, bool]]:
    with engine.connect() as conn:
        return set(conn.execute(select(ConsentChange.analysis, ConsentChange.given)
                                .where(ConsentChange.participant_id == person)))


def test_a_segment_that_grows_is_stored_once_with_its_furthest_end(
        settings, engine, redis_client, worker):
    started = datetime.now(UTC).replace(microsecond=0)
    session_id, person = _join(redis_client, settings, started, voice=True)
    capture, at = uuid.uuid4(), started + timedelta(seconds=2)
    grows = [_spoke(session_id, person, capture, 0, at, at + timedelta(seconds=s))
             for s in (0.3, 1.3, 2.3)]
    # Delivered out of order and twice: the furthest end stands.
    _publish(redis_client, settings, grows[0], grows[2], grows[1], grows[2],
             _spoke(session_id, person, capture, 1, at + timedelta(seconds=4),
                    at + timedelta(seconds=5)))
    wait_for(lambda: len(_segments(engine, person)) == 2, 30, "both segments")
    assert _segments(engine, person)[0] == (at, at + timedelta(seconds=2.3))
    assert _consents(engine, person) == {("voice", True)}


def test_no_speech_is_stored_of_someone_who_agreed_to_face_analysis_only(
        settings, engine, redis_client, worker):
    started = datetime.now(UTC).replace(microsecond=0)
    session_id, person = _join(redis_client, settings, started, voice=False, face=True)
    _publish(redis_client, settings,
             RoomEvent("consent_given", session_id, started + timedelta(seconds=10),
                       participant_id=person, analysis="face"),
             _spoke(session_id, person, uuid.uuid4(), 0, started + timedelta(seconds=1),
                    started + timedelta(seconds=3)),
             RoomEvent("consent_withdrawn", session_id, started + timedelta(seconds=20),
                       participant_id=person))  # no analysis named: face, as before voice
    wait_for(lambda: _consents(engine, person) == {("face", True), ("face", False)}, 30,
             "the face consent changes")
    # A segment begun before any voice consent waits for it, then goes to the dead letters:
    # never stored, whatever comes.
    assert _segments(engine, person) == []


def test_nothing_said_after_a_withdrawal_of_voice_consent_is_stored(
        settings, engine, redis_client, worker):
    started = datetime.now(UTC).replace(microsecond=0)
    session_id, person = _join(redis_client, settings, started, voice=True)
    withdrawn = started + timedelta(seconds=10)
    capture = uuid.uuid4()
    _publish(redis_client, settings,
             _spoke(session_id, person, capture, 0, started + timedelta(seconds=1),
                    started + timedelta(seconds=4)),
             RoomEvent("consent_withdrawn", session_id, withdrawn, participant_id=person,
                       analysis="voice"))
    wait_for(lambda: ("voice", False) in _consents(engine, person), 30, "the withdrawal")
    _publish(redis_client, settings,
             _spoke(session_id, person, capture, 1, withdrawn + timedelta(seconds=1),
                    withdrawn + timedelta(seconds=3)),
             _spoke(session_id, person, capture, 0, started + timedelta(seconds=1),
                    started + timedelta(seconds=9)))  # late news of the first: dropped too
    other_session, other = _join(redis_client, settings, started, voice=True)
    _publish(redis_client, settings, _spoke(other_session, other, uuid.uuid4(), 0, started,
                                            started))
    # Entries are taken in order within a batch or after: once a later one is stored, these
    # were handled.
    wait_for(lambda: _segments(engine, other) != [], 30, "a later segment")
    assert _segments(engine, person) == [(started + timedelta(seconds=1),
                                          started + timedelta(seconds=4))]
