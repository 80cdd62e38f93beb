"""Calls through the SFU (Janus): each participant publishes once over the room's signalling,
the teacher receives each student's video from Janus (students cannot watch each other), and
ingest analyses what Janus relays of the consenting students only: a student who declines is
never subscribed, and a withdrawal ends ingest's subscription at once. Participants are aiortc
clients speaking the room's WebSocket protocol as the page does. An analysis connection that
ends on its own is subscribed again, and one ended while it is still being made (they publish
anew) does not outlive it; rooms a crashed ingest left in Janus are cleared by the next."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid

import aiohttp
import redis.asyncio as aredis
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from contracts.accounts import COOKIE, sign_in
from contracts.stream import StreamKeys
from ingest.analysis import AnalysisPeers
from ingest.janus import JanusSession
from ingest.publisher import StreamPublisher
from ingest.sfu import Sfu
from ingest.talk import Talk
from ingest.videoroom import create_room
from tests.support.accounts import account, set_up, token
from tests.support.faces import PacedFaces, faces_for_load
from tests.support.ingest import running_ingest
from tests.support.janus import OwnJanus
from tests.support.members import lone_student
from tests.support.processes import analysis_peers, free_port, wait_for
from tests.support.records import samples_of
from tests.support.signalling import RoomSocket

TIMEOUT_S = 30.0


class Person(RoomSocket):
    """Someone in the room over its WebSocket, publishing paced faces through the SFU."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__(ws, TIMEOUT_S)
        self.id = ""  # the room's, once joined
        self.frames: dict[str, int] = {}
        self.published: set[str] = set()  # feeds the room said are up
        self._tasks: set[asyncio.Task] = set()

    async def watch(self, feed: str) -> None:
        """Subscribe to ``feed``'s small layer and count the frames that arrive."""
        await self.ws.send_json({"type": "subscribe", "feed": feed, "substream": 0})
        offer = await self.expect("subscription")
        connection = self.connection()
        self.frames[feed] = 0

        @connection.on("track")
        def on_track(track) -> None:
            self._tasks.add(asyncio.create_task(self._count(feed, track)))

        await connection.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await connection.setLocalDescription(await connection.createAnswer())
        await self.ws.send_json({"type": "subscribed", "feed": feed,
                                 "sdp": connection.localDescription.sdp})

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await super().close()

    def heard(self, message: dict) -> None:
        if message["type"] == "peer-published":
            self.published.add(message["id"])
        super().heard(message)

    async def _count(self, feed: str, track) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames[feed] += 1


class HeldFaces(PacedFaces):
    """Paced faces that stop coming while held (a camera that froze), and then go on."""

    def __init__(self) -> None:
        super().__init__(faces_for_load(), 5.0)
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def recv(self):
        await self.flowing.wait()
        return await super().recv()


async def _join(http, url, links, cookie=None, name="", consent=False) -> Person:
    person = Person(await http.ws_connect(
        f"{url}/room/{links.room.name}/ws",
        headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else None))
    joined = await person.join(None if cookie else token(links.guests), name, consent)
    person.id = joined["id"]
    return person


def _faces() -> PacedFaces:
    return PacedFaces(faces_for_load(), 5.0)


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
                await person.publish(_faces())
            await _until(lambda: {olga.id, dan.id} <= host.published,
                         "the room to say both students' video is up")
            await dan.ws.send_json({"type": "subscribe", "feed": olga.id, "substream": 0})
            refusal = await dan.expect("error")
            for student in (olga, dan):
                await host.watch(student.id)
            await _until(lambda: all(n >= 10 for n in host.frames.values()),
                         "the teacher to receive both students' video")
            await _until(lambda: analysis_peers(url) == 1,
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
            await rita.publish(_faces())
            await _until(lambda: analysis_peers(url) == 1, "Rita's analysis")
            await rita.ws.send_json({"type": "consent", "analysis": "face", "given": False})
            await rita.expect("peer-consent")  # the room hears of it once analysis has ended
            subscribed_after = analysis_peers(url)
            await rita.ws.send_json({"type": "consent", "analysis": "face", "given": True})
            await _until(lambda: analysis_peers(url) == 1, "analysis again")
            await rita.close()
            return subscribed_after

    assert asyncio.run(scenario()) == 0


def test_a_withdrawal_counts_at_once_while_the_video_is_still_coming_up(settings, ingest_url,
                                                                        engine):
    """The room waits for a publisher's video to reach Janus apart from their messages: a
    withdrawal meanwhile is answered at once, and their video is never analysed."""
    links = set_up(engine, settings, ingest_url, "class")

    async def scenario():
        async with aiohttp.ClientSession() as http:
            rita = await _join(http, ingest_url, links, name="Rita", consent=True)
            # Janus's answer is never applied: her video cannot come up.
            await rita.publish(_faces(), answered=False)
            await rita.ws.send_json({"type": "consent", "analysis": "face", "given": False})
            told = await rita.expect("peer-consent")  # an error first would fail here
            analysed = analysis_peers(ingest_url)
            await rita.close()
            return told, analysed

    told, analysed = asyncio.run(scenario())
    assert told["consent"] == {"face": False, "voice": False} and analysed == 0


def test_an_analysis_connection_that_ends_on_its_own_is_subscribed_again(settings, engine,
                                                                         worker):
    """Here the video goes silent for longer than ingest waits (its analysis connection then
    ends); once it flows again, ingest has subscribed again and analyses it anew."""
    own = dataclasses.replace(settings, ingest_port=free_port(), track_silence_s=1.0)
    with running_ingest(own) as url:
        links = set_up(engine, own, url, "class")

        async def scenario() -> uuid.UUID:
            async with aiohttp.ClientSession() as http:
                rita = await _join(http, url, links, name="Rita", consent=True)
                camera = HeldFaces()
                await rita.publish(camera)
                me = uuid.UUID(rita.id)
                await _until(lambda: len(samples_of(engine, me)) >= 3, "Rita's first frames")
                camera.flowing.clear()
                await _until(lambda: analysis_peers(url) == 0,
                             "ingest to end the silent analysis connection")
                camera.flowing.set()
                await _until(lambda: len({s.capture_id for s in samples_of(engine, me)}) == 2,
                             "Rita's frames analysed anew")
                await rita.close()
                return me

        rita = asyncio.run(scenario())
    assert len({sample.capture_id for sample in samples_of(engine, rita)}) == 2


def test_an_analysis_ended_while_its_subscription_is_being_made_does_not_outlive_it(settings):
    """Ending an analysis (they publish anew, say, after Janus was frozen) while ingest is still
    subscribing to their feed ends that subscription once it is made: it would be to their old
    feed, and their new one would never be analysed."""

    async def scenario() -> tuple[bool, bool]:
        client = aredis.Redis.from_url(settings.redis_url)
        peers = AnalysisPeers(settings, StreamPublisher(client, settings), Talk())
        sfu = Sfu(settings, peers)
        room, rita = lone_student(settings, "Rita")
        camera = RTCPeerConnection()
        camera.addTransceiver(_faces(), direction="sendonly")
        await camera.setLocalDescription(await camera.createOffer())
        answer = await sfu.publish(room, rita, camera.localDescription.sdp)
        await camera.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await sfu.published(room, rita)
        analysed = peers.analysing(rita.id, "face")
        await sfu.stop_analysing(room, rita)
        # The subscription starts first and is under way (waiting for Janus) when it is ended.
        await asyncio.gather(sfu.analyse(room, rita), sfu.stop_analysing(room, rita))
        outlived = peers.analysing(rita.id, "face")
        await camera.close()
        await sfu.end(room)
        await sfu.close()
        await peers.close_all()
        await client.aclose()
        return analysed, outlived

    assert asyncio.run(scenario()) == (True, False)


def test_janus_rooms_no_ingest_holds_are_destroyed_when_an_ingest_starts(settings, redis_client,
                                                                        tmp_path):
    """An ingest that crashed leaves its sessions' rooms in Janus; the next one clears them,
    and leaves alone the rooms another ingest holds."""
    janus = OwnJanus(tmp_path).start()
    own = dataclasses.replace(settings, ingest_port=free_port(), janus_url=janus.url,
                              janus_admin_key=janus.admin_key)
    keys = StreamKeys.for_prefix(settings.redis_prefix)

    async def leave_rooms() -> None:
        async with aiohttp.ClientSession() as http:
            session = await JanusSession.open(http, janus.url)
            for name in ("left-behind", "held-elsewhere"):
                await create_room(await session.attach(), str(uuid.uuid4()), description=name,
                                  admin_key=janus.admin_key, publishers=2)
            await session.close()

    try:
        asyncio.run(leave_rooms())
        redis_client.set(keys.placement("held-elsewhere"), "/ingest/elsewhere", ex=60)
        with running_ingest(own):
            wait_for(lambda: janus.rooms() == ["held-elsewhere"], 30,
                     "the room no ingest holds to be destroyed")
    finally:
        janus.stop()
