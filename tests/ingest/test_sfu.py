"""Calls through the SFU (Janus): each participant publishes once over the room's signalling,
the teacher receives each student's video from Janus (students cannot watch each other), and
ingest analyses what Janus relays of the consenting students only: a student who declines is
never subscribed, and a withdrawal ends ingest's subscription at once. Participants are aiortc
clients speaking the room's WebSocket protocol as the page does."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from bench.processes import health
from bench.room_load import PacedFaces, faces_for_load
from bench.rooms import account, set_up, token
from contracts.accounts import COOKIE, sign_in
from tests.support.records import samples_of

TIMEOUT_S = 30.0


class Person:
    """Someone in the room over its WebSocket, publishing paced faces through the SFU."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse,
                 joined: dict) -> None:
        self.http, self.ws, self.id = http, ws, joined["id"]
        self.connections: list[RTCPeerConnection] = []
        self.frames: dict[str, int] = {}
        self.published: set[str] = set()  # feeds the room said are up
        self._inbox: asyncio.Queue[dict] = asyncio.Queue()
        self._tasks: set[asyncio.Task] = {asyncio.create_task(self._read())}

    async def publish(self) -> None:
        connection = self._connection()
        connection.addTransceiver(PacedFaces(faces_for_load(), 5.0), direction="sendonly")
        await connection.setLocalDescription(await connection.createOffer())
        await self.ws.send_json({"type": "publish", "sdp": connection.localDescription.sdp})
        answer = await self.expect("published")
        await connection.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def watch(self, feed: str) -> None:
        """Subscribe to ``feed``'s small layer and count the frames that arrive."""
        await self.ws.send_json({"type": "subscribe", "feed": feed, "substream": 0})
        offer = await self.expect("subscription")
        connection = self._connection()
        self.frames[feed] = 0

        @connection.on("track")
        def on_track(track) -> None:
            self._tasks.add(asyncio.create_task(self._count(feed, track)))

        await connection.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await connection.setLocalDescription(await connection.createAnswer())
        await self.ws.send_json({"type": "subscribed", "feed": feed,
                                 "sdp": connection.localDescription.sdp})

    async def expect(self, kind: str) -> dict:
        async with asyncio.timeout(TIMEOUT_S):
            while (message := await self._inbox.get())["type"] != kind:
                if message["type"] == "error":
                    raise AssertionError(message["message"])
        return message

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for connection in self.connections:
            await connection.close()
        await self.ws.close()

    def _connection(self) -> RTCPeerConnection:
        connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.connections.append(connection)
        return connection

    async def _read(self) -> None:
        async for message in self.ws:
            data = message.json()
            if data["type"] == "peer-published":
                self.published.add(data["id"])
            self._inbox.put_nowait(data)

    async def _count(self, feed: str, track) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames[feed] += 1


async def _join(http, url, links, cookie=None, name="", consent=False) -> Person:
    ws = await http.ws_connect(f"{url}/room/{links.room.name}/ws",
                               headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else None)
    await ws.send_json({"type": "join", "invitation": None if cookie else token(links.guests),
                        "name": name, "consent": consent})
    joined = await ws.receive_json(timeout=TIMEOUT_S)
    assert joined["type"] == "joined", joined
    return Person(http, ws, joined)


async def _until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)  # polling the condition, not waiting for it to happen


def test_a_class_through_the_sfu_is_seen_by_the_teacher_and_only_consent_is_analysed(
        settings, ingest_url, engine):
    url = ingest_url
    teacher = account(engine)
    links = set_up(engine, settings, url, "class", teacher)

    async def scenario():
        async with aiohttp.ClientSession() as http:
            host = await _join(http, url, links, cookie=sign_in(engine, teacher, 1.0))
            olga = await _join(http, url, links, name="Olga", consent=True)
            dan = await _join(http, url, links, name="Dan", consent=False)
            for person in (host, olga, dan):
                await person.publish()
            await _until(lambda: {olga.id, dan.id} <= host.published,
                         "the room to say both students' video is up")
            await dan.ws.send_json({"type": "subscribe", "feed": olga.id, "substream": 0})
            refusal = await dan.expect("error")
            for student in (olga, dan):
                await host.watch(student.id)
            await _until(lambda: all(n >= 10 for n in host.frames.values()),
                         "the teacher to receive both students' video")
            await _until(lambda: health(url)["analysis_peers"] == 1,
                         "ingest's one analysis subscription")
            await _until(lambda: len(samples_of(engine, uuid.UUID(olga.id))) >= 5,
                         "Olga's analysed frames")
            for person in (host, olga, dan):
                await person.close()
            return uuid.UUID(dan.id), refusal["message"]

    dan, refusal = asyncio.run(scenario())
    assert samples_of(engine, dan) == []
    assert refusal == "clients and students see the consultants only, not each other"


def test_withdrawing_consent_ends_ingests_subscription_before_anyone_hears_of_it(
        settings, ingest_url, engine):
    url = ingest_url
    links = set_up(engine, settings, url, "class")

    async def scenario():
        async with aiohttp.ClientSession() as http:
            rita = await _join(http, url, links, name="Rita", consent=True)
            await rita.publish()
            await _until(lambda: health(url)["analysis_peers"] == 1, "Rita's analysis")
            await rita.ws.send_json({"type": "consent", "given": False})
            await rita.expect("peer-consent")  # the room hears of it once analysis has ended
            subscribed_after = health(url)["analysis_peers"]
            await rita.ws.send_json({"type": "consent", "given": True})
            await _until(lambda: health(url)["analysis_peers"] == 1, "analysis again")
            await rita.close()
            return subscribed_after

    assert asyncio.run(scenario()) == 0
