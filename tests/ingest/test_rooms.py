"""Room lifecycle: what is recorded when people join, change their mind, leave and end."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from ingest.rooms import RoomError, Rooms


def _rooms(capacity: int = 3) -> tuple[Rooms, list]:
    events: list = []

    async def publish(event) -> None:
        events.append(event)

    return Rooms(publish, capacity), events


async def _nobody(message) -> None:
    return None


def test_the_first_join_starts_the_session_and_the_last_leave_ends_it():
    async def scenario():
        rooms, events = _rooms()
        room, bob = await rooms.join("r", "Dr Bob", "consultant", True, _nobody)
        _, ann = await rooms.join("r", "Ann", "client", True, _nobody)
        await rooms.leave(room, bob)
        await rooms.leave(room, ann)
        return [e.kind for e in events], bob, ann, rooms

    kinds, bob, ann, rooms = asyncio.run(scenario())
    assert kinds == ["session_started", "participant_joined", "participant_joined",
                     "participant_left", "participant_left", "session_ended"]
    assert not bob.consent and ann.consent, "a consultant is never analysed"
    assert rooms.by_name == {}


def test_a_full_room_refuses_one_more():
    async def scenario():
        rooms, _ = _rooms(capacity=2)
        await rooms.join("r", "A", "consultant", False, _nobody)
        await rooms.join("r", "B", "student", True, _nobody)
        with pytest.raises(RoomError, match="is full"):
            await rooms.join("r", "C", "student", True, _nobody)
    asyncio.run(scenario())


def test_a_returning_participant_keeps_their_identity_and_restates_consent():
    async def scenario():
        rooms, events = _rooms()
        room, _ = await rooms.join("r", "Dr Bob", "consultant", False, _nobody)
        _, ann = await rooms.join("r", "Ann", "client", True, _nobody)
        await rooms.leave(room, ann)
        _, again = await rooms.join("r", "Ann", "client", False, _nobody, rejoin=ann.id)
        return again, ann, events[-1]

    again, ann, last = asyncio.run(scenario())
    assert again.id == ann.id
    assert (last.kind, last.participant_id) == ("consent_withdrawn", ann.id)


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


def test_people_joining_at_once_each_hear_they_joined_before_anything_else(ingest_url):
    async def join(http, name):
        ws = await http.ws_connect(f"{ingest_url}/room/rush/ws")
        await ws.send_json({"type": "join", "name": name, "role": "student", "consent": True})
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
    async def scenario():
        rooms, events = _rooms()
        with pytest.raises(RoomError, match="a room name is 1 to 100"):
            await rooms.join(room, "Ann", "client", True, _nobody)
        return events

    assert asyncio.run(scenario()) == []
