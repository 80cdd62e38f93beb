"""Bad requests get a clear 4xx and harm nobody else; a good analysis offer is answered."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiortc import RTCPeerConnection, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack


@asynccontextmanager
async def _member(url: str, room: str, consent: bool = True):
    """A participant joined over the room's WebSocket, for as long as the block runs."""
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}/room/{room}/ws") as ws:
        await ws.send_json({"type": "join", "name": "Tess", "role": "client", "consent": consent})
        joined = await ws.receive_json(timeout=10)
        assert joined["type"] == "joined", joined
        yield http, joined["id"]


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


def test_a_video_offer_of_a_consenting_participant_is_answered(ingest_url):
    async def scenario():
        room = f"offers-{uuid.uuid4().hex[:6]}"
        async with _member(ingest_url, room) as (http, member):
            status, body = await _post(http, ingest_url, room,
                                       {"participant": member, "sdp": await _offer(
                                           VideoStreamTrack())})
            assert status == 200, body
            assert body["type"] == "answer" and body["sdp"].startswith("v=0")
    asyncio.run(scenario())


@pytest.mark.parametrize("sdp, status, message", [
    ("x" * 30_000, 400, "larger than"),
    ("hello", 400, "not an SDP session description"),
    ("audio", 400, "exactly one video track"),
])
def test_a_bad_offer_is_refused_with_the_reason(ingest_url, sdp, status, message):
    async def scenario():
        room = f"offers-{uuid.uuid4().hex[:6]}"
        offer = await _offer(AudioStreamTrack()) if sdp == "audio" else sdp
        async with _member(ingest_url, room) as (http, member):
            answer = await _post(http, ingest_url, room, {"participant": member, "sdp": offer})
            assert answer[0] == status and message in answer[1]["error"]
    asyncio.run(scenario())


def test_without_consent_there_is_no_analysis_stream(ingest_url):
    async def scenario():
        room = f"offers-{uuid.uuid4().hex[:6]}"
        async with _member(ingest_url, room, consent=False) as (http, member):
            status, body = await _post(http, ingest_url, room, {
                "participant": member, "sdp": await _offer(VideoStreamTrack())})
            assert status == 403 and "has not agreed to analysis" in body["error"]
    asyncio.run(scenario())


@pytest.mark.parametrize("body, status, message", [
    ({"participant": str(uuid.uuid4()), "sdp": "v=0"}, 404, "not in the room"),
    ({"sdp": "v=0"}, 400, "'participant' and 'sdp'"),
])
def test_unknown_participants_and_malformed_requests_are_refused(ingest_url, body, status,
                                                                 message):
    async def scenario():
        room = f"offers-{uuid.uuid4().hex[:6]}"
        async with _member(ingest_url, room) as (http, _):
            answer = await _post(http, ingest_url, room, body)
            assert answer[0] == status and message in answer[1]["error"]
    asyncio.run(scenario())


def test_an_unknown_room_is_refused(ingest_url):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            status, body = await _post(http, ingest_url, "no-such-room", {"participant": "x"})
            assert status == 404 and "no live room" in body["error"]
    asyncio.run(scenario())


def test_a_bad_join_gets_an_error_and_the_room_still_works(ingest_url):
    async def scenario():
        room = f"offers-{uuid.uuid4().hex[:6]}"
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"{ingest_url}/room/{room}/ws") as ws:
            await ws.send_json({"type": "join", "name": "Eve", "role": "boss"})
            assert "role must be one of" in (await ws.receive_json(timeout=10))["message"]
            await ws.send_str("not json")
            assert (await ws.receive_json(timeout=10))["type"] == "error"
            await ws.send_json({"type": "join", "name": "Eve", "role": "student"})
            assert (await ws.receive_json(timeout=10))["type"] == "joined"
    asyncio.run(scenario())
