"""Bad requests get a clear 4xx and harm nobody else; a good analysis offer is answered, and
only for the participant who joined (their key), never for someone who only knows their id."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiortc import RTCPeerConnection, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack

from bench.rooms import set_up, token


@pytest.fixture
def room(engine, settings, ingest_url) -> tuple[str, str]:
    """A consultation of its own: its name and the client's invitation."""
    links = set_up(engine, settings, ingest_url)
    return links.room.name, token(links.guests)


@asynccontextmanager
async def _member(url: str, room: tuple[str, str], consent: bool = True):
    """An invited client joined over the room's WebSocket, for as long as the block runs."""
    name, invitation = room
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}/room/{name}/ws") as ws:
        await ws.send_json({"type": "join", "invitation": invitation, "name": "Tess",
                            "consent": consent})
        joined = await ws.receive_json(timeout=10)
        assert joined["type"] == "joined", joined
        yield http, {"participant": joined["id"], "key": joined["key"]}


async def _offer(track) -> str:
    connection = RTCPeerConnection()
    connection.addTransceiver(track, direction="sendonly")
    await connection.setLocalDescription(await connection.createOffer())
    sdp = connection.localDescription.sdp
    await connection.close()
    return sdp


async def _post(http: aiohttp.ClientSession, url: str, room: str, body: object):
    async with http.post(f"{url}/room/{room}/analysis", json=body) as response:
        return response.status, await response.json()


def test_a_video_offer_of_a_consenting_participant_is_answered(ingest_url, room):
    async def scenario():
        async with _member(ingest_url, room) as (http, member):
            status, body = await _post(http, ingest_url, room[0],
                                       member | {"sdp": await _offer(VideoStreamTrack())})
            assert status == 200, body
            assert body["type"] == "answer" and body["sdp"].startswith("v=0")
    asyncio.run(scenario())


@pytest.mark.parametrize("sdp, status, message", [
    ("x" * 30_000, 400, "larger than"),
    ("hello", 400, "not an SDP session description"),
    ("audio", 400, "exactly one video track"),
])
def test_a_bad_offer_is_refused_with_the_reason(ingest_url, room, sdp, status, message):
    async def scenario():
        offer = await _offer(AudioStreamTrack()) if sdp == "audio" else sdp
        async with _member(ingest_url, room) as (http, member):
            answer = await _post(http, ingest_url, room[0], member | {"sdp": offer})
            assert answer[0] == status and message in answer[1]["error"]
    asyncio.run(scenario())


def test_without_consent_there_is_no_analysis_stream(ingest_url, room):
    async def scenario():
        async with _member(ingest_url, room, consent=False) as (http, member):
            status, body = await _post(http, ingest_url, room[0],
                                       member | {"sdp": await _offer(VideoStreamTrack())})
            assert status == 403 and "has not agreed to analysis" in body["error"]
    asyncio.run(scenario())


@pytest.mark.parametrize("body, status, message", [
    # Someone else's id without their key: the key is given to the participant alone.
    (lambda member: {"participant": member["participant"]}, 404, "not in the room"),
    (lambda member: member | {"key": "guessed"}, 404, "not in the room"),
    (lambda member: {"participant": str(uuid.uuid4()), "key": member["key"]}, 404,
     "not in the room"),
    (lambda member: {}, 400, "'participant', 'key' and 'sdp'"),
], ids=["no key", "wrong key", "unknown participant", "malformed"])
def test_unknown_participants_and_malformed_requests_are_refused(ingest_url, room, body, status,
                                                                 message):
    async def scenario():
        async with _member(ingest_url, room) as (http, member):
            answer = await _post(http, ingest_url, room[0],
                                 body(member) | {"sdp": await _offer(VideoStreamTrack())})
            assert answer[0] == status and message in answer[1]["error"]
    asyncio.run(scenario())


def test_an_unknown_room_is_refused(ingest_url):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            status, body = await _post(http, ingest_url, "no-such-room", {"participant": "x"})
            assert status == 404 and "no live room" in body["error"]
    asyncio.run(scenario())


def test_a_join_without_a_valid_invitation_is_refused_and_the_room_still_works(ingest_url,
                                                                              room):
    """The role comes from the invitation, never from the browser: a join with none (or with a
    made-up one) is told why it is not admitted, and one that claims a role gets the
    invitation's."""
    name, invitation = room

    async def scenario():
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"{ingest_url}/room/{name}/ws") as ws:
            await ws.send_json({"type": "join", "name": "Eve", "role": "consultant"})
            refused = await ws.receive_json(timeout=10)
            assert refused["type"] == "error", refused
            assert "only for invited people" in refused["message"], refused
            await ws.send_json({"type": "join", "invitation": "made-up", "name": "Eve"})
            refused = await ws.receive_json(timeout=10)
            assert refused["type"] == "error" and "not valid" in refused["message"], refused
            await ws.send_str("not json")
            assert (await ws.receive_json(timeout=10))["type"] == "error"
            await ws.send_json({"type": "join", "invitation": invitation, "name": "Eve",
                                "role": "consultant"})
            assert (await ws.receive_json(timeout=10))["type"] == "joined"
            async with http.ws_connect(f"{ingest_url}/room/{name}/ws") as other:
                await other.send_json({"type": "join", "invitation": invitation,
                                       "name": "Tess"})
                peers = (await other.receive_json(timeout=10))["peers"]
        return [(peer["name"], peer["role"]) for peer in peers]

    assert asyncio.run(scenario()) == [("Eve", "client")]
