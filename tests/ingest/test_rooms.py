"""Room lifecycle: what is recorded when people join, change their mind, leave and end."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from contracts.alert import AlertRule
from contracts.room_events import RoomEvent
from contracts.settings import Settings
from ingest.rooms import Room, RoomError, Rooms, SessionEnded
from tests.support.accounts import set_up, token
from tests.support.members import no_page

# The room as its admission describes it (contracts/invitations.py): whose it is, and its id.
OF_BOB = {"consultant": "Dr Bob", "room_id": uuid.UUID(int=1)}
FACE, VOICE, BOTH, NONE = {"face"}, {"voice"}, {"face", "voice"}, set()


def _rooms(capacity: int = 3) -> tuple[Rooms, list[RoomEvent]]:
    events: list[RoomEvent] = []
    return Rooms(events.append, capacity, AlertRule.of(Settings())), events


def test_the_first_join_starts_the_session_and_the_last_leave_ends_it():
    rooms, events = _rooms()
    room, bob = rooms.join("r", "Dr Bob", "consultant", FACE, no_page, **OF_BOB)
    _, ann = rooms.join("r", "Ann", "client", FACE, no_page, **OF_BOB)
    rooms.leave(room, bob)
    rooms.leave(room, ann)
    assert [e.kind for e in events] == ["session_started", "participant_joined",
                                        "participant_joined", "participant_left",
                                        "participant_left", "session_ended"]
    assert not bob.consent and ann.consent, "a consultant's face is never analysed"
    assert events[0].consultant == "Dr Bob" and not bob.cohost, "the room is Dr Bob's own"
    assert events[2].consent_at == events[2].at, "the join carries the consent"
    assert rooms.by_name == {}


def test_a_full_room_refuses_one_more():
    rooms, _ = _rooms(capacity=2)
    rooms.join("r", "A", "consultant", NONE, no_page, **OF_BOB)
    rooms.join("r", "B", "student", FACE, no_page, **OF_BOB)
    with pytest.raises(RoomError, match="is full"):
        rooms.join("r", "C", "student", FACE, no_page, **OF_BOB)


def test_a_returning_participant_keeps_their_identity_and_restates_consent():
    rooms, events = _rooms()
    room, _ = rooms.join("r", "Dr Bob", "consultant", NONE, no_page, **OF_BOB)
    _, ann = rooms.join("r", "Ann", "client", FACE, no_page, **OF_BOB)
    rooms.leave(room, ann)
    _, again = rooms.join("r", "Ann", "client", NONE, no_page, rejoin=ann.id, **OF_BOB)
    assert again.id == ann.id
    assert (events[-1].kind, events[-1].participant_id) == ("consent_withdrawn", ann.id)


def test_after_a_redis_restart_the_room_announces_its_whole_record_again():
    rooms, events = _rooms()
    room, _ = rooms.join("r", "Dr Bob", "consultant", NONE, no_page, **OF_BOB)
    _, ann = rooms.join("r", "Ann", "client", FACE, no_page, **OF_BOB)
    rooms.set_consent(room, ann, "face", False)
    rooms.set_consent(room, ann, "face", True)
    _, ben = rooms.join("r", "Ben", "client", NONE, no_page, **OF_BOB)
    rooms.leave(room, ben)
    published = len(events)

    rooms.announce_again()
    again = events[published:]
    assert [(e.kind, e.participant_id) for e in again] == [
        ("session_started", None), ("participant_joined", room.members[_id(room, "Dr Bob")].id),
        ("participant_joined", ann.id), ("consent_given", ann.id), ("consent_withdrawn", ann.id),
        ("consent_given", ann.id), ("participant_joined", ben.id), ("participant_left", ben.id)]
    assert {e.session_id for e in again} == {room.session_id}
    assert _consent_times(again, ann.id) == _consent_times(events[:published], ann.id), (
        "changes keep their times")


def test_a_room_ended_before_a_restart_is_announced_again_with_its_end():
    rooms, events = _rooms()
    room, _ = rooms.join("r", "Dr Bob", "consultant", NONE, no_page, **OF_BOB)
    rooms.end(room)
    ended = events[-1]
    rooms.announce_again()
    assert events[-1] == ended and ended.kind == "session_ended" and ended.reason == "ended"


def test_rejoining_an_ended_session_is_refused_and_starts_nothing():
    rooms, events = _rooms()
    room, _ = rooms.join("r", "Dr Bob", "consultant", NONE, no_page, **OF_BOB)
    _, ann = rooms.join("r", "Ann", "client", FACE, no_page, **OF_BOB)
    rooms.end(room)
    published = len(events)
    with pytest.raises(SessionEnded, match="has ended"):
        rooms.join("r", "Ann", "client", FACE, no_page, rejoin=ann.id, **OF_BOB)
    assert len(events) == published and rooms.by_name == {}


def _consent_times(events: list[RoomEvent], participant_id) -> list:
    """When consent was given or withdrawn, whether with the join or on its own."""
    return [e.consent_at or e.at for e in events if e.participant_id == participant_id
            and (e.kind.startswith("consent") or e.consent_at)]


def _id(room: Room, name: str):
    return next(m.id for m in room.members.values() if m.name == name)


def test_one_address_cannot_hold_more_connections_than_allowed(ingest_url, settings):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            sockets = [await http.ws_connect(f"{ingest_url}/room/limit/ws")
                       for _ in range(settings.connections_per_client)]
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{ingest_url}/room/limit/ws")
            for ws in sockets:
                await ws.close()
            return refused.value.status

    assert asyncio.run(scenario()) == 429


def test_people_joining_at_once_each_hear_they_joined_before_anything_else(ingest_url, engine,
                                                                            settings):
    links = set_up(engine, settings, ingest_url, "class")
    room, invitation = links.room.name, token(links.guests)

    async def join(http, name):
        ws = await http.ws_connect(f"{ingest_url}/room/{room}/ws")
        await ws.send_json({"type": "join", "invitation": invitation, "name": name,
                            "consent": True})
        first = await ws.receive_json(timeout=10)
        return ws, first["type"]

    async def scenario():
        async with aiohttp.ClientSession() as http:
            joined = await asyncio.gather(*(join(http, f"s{i}") for i in range(8)))
            for ws, _ in joined:
                await ws.close()
            return [kind for _, kind in joined]

    assert asyncio.run(scenario()) == ["joined"] * 8


@pytest.mark.parametrize("room", ["", "x" * 101, "a room", "../etc"])
def test_a_room_name_must_be_short_and_plain(room):
    rooms, events = _rooms()
    with pytest.raises(RoomError, match="a room name is 1 to 100"):
        rooms.join(room, "Ann", "client", FACE, no_page, **OF_BOB)
    assert events == []


def test_each_analysis_is_agreed_to_and_withdrawn_on_its_own():
    rooms, events = _rooms()
    room, bob = rooms.join("r", "Dr Bob", "consultant", BOTH, no_page, **OF_BOB)
    _, ann = rooms.join("r", "Ann", "client", BOTH, no_page, **OF_BOB)
    assert (bob.consent, ann.consent) == (VOICE, BOTH), "a consultant is asked about voice only"
    joined = [e for e in events if e.kind == "participant_joined"]
    assert [(e.consent_at is not None, e.voice_consent_at is not None) for e in joined] == [
        (False, True), (True, True)]
    rooms.set_consent(room, ann, "voice", False)
    assert ann.consent == FACE
    assert (events[-1].kind, events[-1].analysis) == ("consent_withdrawn", "voice")
    with pytest.raises(RoomError, match="not asked about face analysis"):
        rooms.set_consent(room, bob, "face", True)
    replayed = [(e.kind, e.analysis) for e in room.record() if e.participant_id == ann.id]
    assert replayed == [("participant_joined", None), ("consent_given", "face"),
                        ("consent_given", "voice"), ("consent_withdrawn", "voice")]
