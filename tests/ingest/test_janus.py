"""Janus as econsult runs it (deploy/janus), driven by ingest's client (ingest/janus.py), with real
aiortc peers: only econsult can reach its API and create rooms, and a publisher's frames reach a
subscriber through it, untouched, until the subscription or the session ends."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

import ingest.janus as janus_client
from ingest.janus import (
    API_ORIGIN,
    MISSING_ELEMENT,
    SESSION_NOT_FOUND,
    UNAUTHORIZED,
    Handle,
    JanusError,
    JanusSession,
)
from ingest.videoroom import create_room, destroy_room, leave, publish, start, subscribe
from tests.support.janus import DEPLOY, OwnJanus

WIDTH, HEIGHT, FPS = 320, 240, 10
COLOURS = [(230, 40, 40), (40, 230, 40), (40, 40, 230)]  # RGB, one second each, in turn
COLOUR_TOLERANCE = 30  # per channel, on a frame's mean: VP8 keeps flat colours close
FRAMES = 25  # 2.5 s: every colour at least once
DEADLINE_S = 20.0  # the machine is shared with a CI run: generous, never waited out when well


class ColourCards(VideoStreamTrack):
    """Flat frames of one colour per second, paced at ``FPS``: a receiver can tell them apart
    and knows them for this track's."""

    def __init__(self) -> None:
        super().__init__()
        self._sent = 0
        self._started: float | None = None

    async def recv(self) -> VideoFrame:
        self._started = self._started or time.monotonic()
        # Pacing, not synchronisation: frame n is due n / FPS seconds after the first.
        await asyncio.sleep(max(0.0, self._started + self._sent / FPS - time.monotonic()))
        colour = COLOURS[self._sent // FPS % len(COLOURS)]
        frame = VideoFrame.from_ndarray(np.full((HEIGHT, WIDTH, 3), colour, np.uint8),
                                        format="rgb24")
        frame.pts, frame.time_base = self._sent * 90_000 // FPS, fractions.Fraction(1, 90_000)
        self._sent += 1
        return frame


@dataclass
class Call:
    """A room with one aiortc publisher and one aiortc subscriber of it, through Janus."""

    session: JanusSession
    admin: Handle
    room: str
    publisher: RTCPeerConnection
    publishing: Handle
    subscription: Handle
    viewer: RTCPeerConnection
    track: MediaStreamTrack


@pytest.fixture(scope="module")
def janus(tmp_path_factory) -> Iterator[OwnJanus]:
    own = OwnJanus(tmp_path_factory.mktemp("janus")).start()
    yield own
    own.stop()


def test_janus_offers_only_the_videoroom_over_http_on_loopback_and_no_admin_api(janus):
    info = janus.info()
    assert list(info["plugins"]) == ["janus.plugin.videoroom"]
    assert list(info["transports"]) == ["janus.transport.http"]
    assert info["events"] == {} and info["loggers"] == {}
    # The API is the only thing it accepts connections on: no admin API, no other transport.
    assert janus.listening() == {("127.0.0.1", janus.port)}


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8080", "https://evil.example", None])
def test_janus_refuses_every_browser_whatever_page_it_comes_from(janus, origin):
    headers = {"Origin": origin} if origin else {}
    request = urllib.request.Request(janus.url, data=b'{"janus":"create","transaction":"t"}',
                                     headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403


def test_the_admin_key_reaches_janus_only_through_its_private_folder(janus):
    folder = janus.configuration
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for rendered in folder.iterdir():
        assert stat.S_IMODE(rendered.stat().st_mode) == 0o600, rendered
    assert janus.admin_key in (folder / "janus.plugin.videoroom.jcfg").read_text()
    assert not any(janus.admin_key in shipped.read_text() for shipped in DEPLOY.iterdir())
    assert janus.admin_key not in Path(f"/proc/{janus.pid}/cmdline").read_text()


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("ECONSULT_JANUS_ADMIN_KEY", "short", "at least 32"),
    ("ECONSULT_JANUS_ADMIN_KEY", 'k" admin_key = "x' + "k" * 32, "at least 32"),
    ("ECONSULT_JANUS_HTTP_IP", "0.0.0.0", "every address"),
    ("ECONSULT_JANUS_HTTP_IP", '127.0.0.1"', "IP address"),
    ("ECONSULT_JANUS_HTTP_PORT", "99999", "port number"),
])
def test_the_launcher_refuses_settings_that_would_open_janus(tmp_path, setting, value, says):
    environment = os.environ | {"ECONSULT_JANUS_ADMIN_KEY": "k" * 32, setting: value}
    started = subprocess.run([str(DEPLOY / "run"), str(tmp_path / "configuration")],
                             env=environment, capture_output=True, text=True, timeout=30)
    assert started.returncode == 2 and says in started.stderr, started.stderr
    assert not (tmp_path / "configuration").exists()


def test_only_econsult_with_the_admin_key_creates_rooms(janus):
    async def scenario() -> None:
        room = str(uuid.uuid4())
        async with aiohttp.ClientSession() as http, await JanusSession.open(http, janus.url) as s:
            handle = await s.attach()
            for key, code in ((None, MISSING_ELEMENT), ("not-the-key", UNAUTHORIZED)):
                body = {"request": "create", "room": room} | ({"admin_key": key} if key else {})
                with pytest.raises(JanusError) as refused:
                    await handle.send(body)
                assert refused.value.code == code, refused.value
            assert not await _exists(handle, room)
            await create_room(handle, room, admin_key=janus.admin_key, publishers=51)
            assert await _exists(handle, room)
            await destroy_room(handle, room, admin_key=janus.admin_key)
            assert not await _exists(handle, room)
    asyncio.run(scenario())


def test_a_subscriber_receives_the_publishers_frames_through_janus(janus):
    async def scenario() -> None:
        async with _call(janus) as call:
            frames = [await asyncio.wait_for(call.track.recv(), DEADLINE_S)
                      for _ in range(FRAMES)]
        # Janus forwards the publisher's VP8 packets without decoding them: the subscriber
        # decodes the publisher's own frames, of its size, and its colours as they change.
        assert {(frame.width, frame.height) for frame in frames} == {(WIDTH, HEIGHT)}
        seen = [_colour_of(frame) for frame in frames]
        assert len(set(seen)) >= 2, seen
    asyncio.run(scenario())


def test_after_leaving_nothing_arrives_and_closing_frees_the_session(janus):
    async def scenario() -> None:
        async with _call(janus) as call:
            await asyncio.wait_for(call.track.recv(), DEADLINE_S)
            await leave(call.subscription)
            await call.subscription.event("hangup", timeout_s=DEADLINE_S)
            # Janus hung up the subscription: the viewer's track ends, nothing more can arrive.
            with pytest.raises(MediaStreamError):
                async with asyncio.timeout(DEADLINE_S):
                    while True:
                        await call.track.recv()
            # The publisher is untouched, still publishing in the room.
            listed = await call.admin.send({"request": "listparticipants", "room": call.room})
            assert [(p["id"], p["publisher"]) for p in listed.data["participants"]] == [
                ("alice", True)]

            await call.session.close()
            # Janus no longer knows the session, and hung up its publisher's PeerConnection.
            assert await _keepalive_error(call.session) == SESSION_NOT_FOUND
            await _until(lambda: call.publisher.connectionState == "closed", DEADLINE_S,
                         "Janus to hang up the publisher")
            with pytest.raises(JanusError):
                await call.session.attach()
    asyncio.run(scenario())


def test_janus_writes_no_recording_even_when_asked(janus, tmp_path):
    """econsult never stores a video frame, and Janus (protected_folders) cannot either."""
    async def scenario() -> None:
        async with _call(janus) as call:
            await call.publishing.send({"request": "configure", "record": True,
                                   "secret": janus.admin_key, "filename": str(tmp_path / "rec")})
            await _until(lambda: f"'{tmp_path}/rec" in janus.log.read_text(errors="replace"),
                         DEADLINE_S, "Janus to try the recording")
        assert "is in protected folder" in janus.log.read_text(errors="replace")
        assert list(tmp_path.iterdir()) == []
    asyncio.run(scenario())


def test_an_open_session_is_kept_alive_past_janus_session_timeout(tmp_path, monkeypatch):
    """Janus destroys a session silent for its session timeout (2 s here; 60 s in
    deploy/janus/janus.jcfg); an open session keeps itself alive, a forgotten one goes."""
    monkeypatch.setattr(janus_client, "KEEPALIVE_S", 0.5)
    short = OwnJanus(tmp_path, "--session-timeout=2").start()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http, await JanusSession.open(http, short.url) as s:
            forgotten = await _raw_session(http, short.url)
            # Its long poll brings Janus's "timeout" event (or, if already destroyed, a 404).
            assert await _next_event(http, forgotten) in ("timeout", 404)
            assert s.ended is None
            await s.attach()  # Janus still has it
    try:
        asyncio.run(scenario())
    finally:
        short.stop()


@contextlib.asynccontextmanager
async def _call(janus: OwnJanus) -> AsyncIterator[Call]:
    """One publisher and one subscriber of it in a new room, in one Janus session (as ingest
    keeps one per room); everything is closed afterwards."""
    peers: list[RTCPeerConnection] = []
    async with aiohttp.ClientSession() as http, await JanusSession.open(http, janus.url) as s:
        try:
            admin = await s.attach()
            room = str(uuid.uuid4())
            await create_room(admin, room, admin_key=janus.admin_key, publishers=2)
            publisher = _peer(peers)
            publisher.addTransceiver(ColourCards(), direction="sendonly")
            await publisher.setLocalDescription(await publisher.createOffer())
            publishing = await s.attach()
            await publisher.setRemoteDescription(
                await publish(publishing, room, "alice", publisher.localDescription))
            # Janus lists a feed once its PeerConnection is up.
            await publishing.event("webrtcup", timeout_s=DEADLINE_S)

            viewer = _peer(peers)
            tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
            viewer.on("track", tracks.put_nowait)
            subscription = await s.attach()
            await viewer.setRemoteDescription(
                await subscribe(subscription, room, "alice", substream=0))
            await viewer.setLocalDescription(await viewer.createAnswer())
            await start(subscription, viewer.localDescription)
            track = await asyncio.wait_for(tracks.get(), DEADLINE_S)
            yield Call(s, admin, room, publisher, publishing, subscription, viewer, track)
        finally:
            for peer in peers:
                await peer.close()


def _peer(peers: list[RTCPeerConnection]) -> RTCPeerConnection:
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peers.append(peer)
    return peer


def _colour_of(frame: VideoFrame) -> tuple[int, int, int]:
    """The one of ``COLOURS`` the frame shows (it must show one)."""
    mean = frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    for colour in COLOURS:
        if np.all(np.abs(mean - colour) <= COLOUR_TOLERANCE):
            return colour
    raise AssertionError(f"a frame of mean colour {mean.round()} is none of {COLOURS}")


async def _exists(handle: Handle, room: str) -> bool:
    return (await handle.send({"request": "exists", "room": room})).data["exists"]


async def _raw_session(http: aiohttp.ClientSession, url: str) -> str:
    """A session created and then forgotten: no keepalives, no long poll."""
    async with http.post(url, json={"janus": "create", "transaction": "t"},
                         headers={"Origin": API_ORIGIN}) as response:
        return f"{url}/{(await response.json(content_type=None))['data']['id']}"


async def _keepalive_error(session: JanusSession) -> int | None:
    """Janus's error code for a keepalive of ``session``; None if Janus still has it."""
    async with aiohttp.ClientSession() as http, http.post(
            session.url, json={"janus": "keepalive", "transaction": "t"},
            headers={"Origin": API_ORIGIN}) as response:
        answer = await response.json(content_type=None)
    return answer["error"]["code"] if answer["janus"] == "error" else None


async def _next_event(http: aiohttp.ClientSession, session_url: str) -> str | int:
    """The kind of the next event on a session's long poll (Janus holds it up to 30 s), or the
    HTTP status when Janus no longer has the session."""
    async with http.get(session_url, headers={"Origin": API_ORIGIN},
                        timeout=aiohttp.ClientTimeout(total=60)) as response:
        if response.status != 200:
            return response.status
        return (await response.json(content_type=None))["janus"]


async def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
