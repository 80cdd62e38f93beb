"""A class through the SFU (Janus), against the same class peer to peer: N students, each a
pure-Python aiortc client that joins with the class's invitation and consent.

- Through Janus (``econsult janus``): each student publishes pre-encoded VP8 (FER faces,
  320x240, 10 fps, read with ``MediaPlayer(decode=False)``, so the load generator encodes
  nothing), the teacher, signed in, watches every student's small layer, and ingest analyses
  what Janus relays of each of them.
- Peer to peer: each student sends ingest its own analysis stream (bench/room_load.py); the call
  itself goes browser to browser and costs the server nothing.

Over a window of ``seconds`` once every student publishes, is watched and is analysed: the CPU
of Janus, of ingest and of the workers per participant, the load generator's own (not counted,
but it shares the machine), the frames per student that reach the teacher and ingest. Over the
whole class: packets lost on the students' way to Janus (as Janus reports them) and on Janus's
way to the teacher, UDP datagrams dropped at each process's sockets (a reader too slow),
capture→stored latency of the analysed frames, and the frames ingest sampled and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fractions
import os
import secrets
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import aiohttp
import av
import numpy as np
import redis
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from sqlalchemy import Engine

from bench.pipeline import cleanup, scratch_settings
from bench.processes import EconsultProcess, econsult, free_port, health, start_worker, wait_for
from bench.room_load import (
    ANALYSIS_SIZE,
    cpu_seconds,
    dropped_frames,
    faces_for_load,
    load,
    room_figures,
)
from bench.rooms import account, set_up, token
from contracts.accounts import COOKIE, Account, sign_in
from contracts.database import engine_for
from contracts.invitations import RoomLinks
from contracts.settings import Settings
from contracts.stream import StreamKeys
from ingest.janus import API_ORIGIN
from migrations.runner import upgrade

CLIP_FPS = 10  # the small layer: half of a 640x480 camera, at a thumbnail's rate
CLIP_BITRATE = 200_000
START_TIMEOUT_S = 120.0  # for a whole class to join, publish and be analysed
SETTLE_S = 2.0  # a new subscriber waits up to a second (a keyframe interval) for its first frame
DRAIN_TIMEOUT_S = 300.0  # for the workers to store the frames of a class once it is over
VP8 = [codec for codec in RTCRtpReceiver.getCapabilities("video").codecs
       if codec.mimeType == "video/VP8"]
GROUPS = ("Janus", "ingest", "workers", "load generator")


@dataclasses.dataclass
class Bench:
    """What every class size is measured with: the two ingests (calls through Janus, and peer to
    peer) by URL and process id, and the processes whose CPU counts."""

    engine: Engine
    ingests: dict[str, tuple[str, int]]  # "SFU" and "p2p": (URL, process id)
    janus: int
    workers: list[int]
    clip: Path
    teacher: Account  # the consultant of every class
    cookie: str  # their sign-in


def run_class_bench(settings: Settings, counts: list[int], seconds: float, workers: int
                    ) -> dict[str, float]:
    p2p = dataclasses.replace(scratch_settings(settings), ingest_port=free_port(),
                              connections_per_client=10_000, room_capacity=10_000)
    sfu = dataclasses.replace(p2p, ingest_port=free_port(),
                              janus_url=f"http://127.0.0.1:{free_port()}/janus",
                              janus_admin_key=secrets.token_hex(32))
    upgrade(p2p.database_url)
    engine = engine_for(p2p.database_url)
    started: list[EconsultProcess] = []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="econsult-bench-class-") as folder:
        logs = Path(folder)
        try:
            janus = _start(started, sfu, "janus", lambda: _janus_answers(sfu.janus_url), logs)
            ingests = {}
            for name, own in (("SFU", sfu), ("p2p", p2p)):
                url = f"http://127.0.0.1:{own.ingest_port}"
                ingest = _start(started, own, "ingest", lambda url=url: health(url) is not None,
                                logs)
                ingests[name] = (url, ingest.process.pid)
            worker_pids = []
            for i in range(workers):
                started.append(worker := start_worker(p2p, f"class-bench-{i}"))
                worker_pids.append(worker.process.pid)
            teacher = account(engine)
            bench = Bench(engine, ingests, _child(janus.process.pid), worker_pids,
                          make_clip(logs / "faces.ivf", START_TIMEOUT_S + seconds + 30),
                          teacher, sign_in(engine, teacher, 4.0))
            for count in counts:
                print(f"  a class of {count} through Janus …", flush=True)
                figures |= _sfu_class(bench, sfu, count, seconds)
                print(f"  a class of {count} peer to peer …", flush=True)
                figures |= _p2p_class(bench, p2p, count, seconds)
            return figures
        finally:
            for process in reversed(started):  # workers, then ingest (it ends its Janus rooms)
                process.stop()
            engine.dispose()
            cleanup(p2p)


def _sfu_class(bench: Bench, settings: Settings, count: int, seconds: float
               ) -> dict[str, float]:
    url, ingest = bench.ingests["SFU"]
    room = set_up(bench.engine, settings, url, "class", bench.teacher)
    before = dropped_frames(url)
    groups = {"Janus": [bench.janus], "ingest": [ingest], "workers": bench.workers,
              "load generator": [os.getpid()]}
    cores, measured = asyncio.run(_through_janus(url, room, bench.cookie, bench.clip, count,
                                                 seconds, groups))
    _drain(settings, url)
    return _labelled(f"class of {count}, SFU", count, measured | room_figures(
        bench.engine, room.room.name, count, cores.pop("ingest") / count)
        | _cpu_figures(cores, count) | _since(before, dropped_frames(url)))


def _p2p_class(bench: Bench, settings: Settings, count: int, seconds: float
               ) -> dict[str, float]:
    url, ingest = bench.ingests["p2p"]
    room = set_up(bench.engine, settings, url, "class", bench.teacher)
    before = dropped_frames(url)
    groups = {"workers": bench.workers, "load generator": [os.getpid()]}
    per_stream, cores = asyncio.run(_peer_to_peer(url, ingest, room, count, seconds,
                                                  settings.analysis_fps, groups))
    _drain(settings, url)
    return _labelled(f"class of {count}, p2p", count, room_figures(
        bench.engine, room.room.name, count, per_stream)
        | _cpu_figures(cores, count) | _since(before, dropped_frames(url)))


def make_clip(path: Path, seconds: float) -> Path:
    """FER faces (one a second, with a camera's sensor noise) as VP8 in an IVF file, ``seconds``
    long: MediaPlayer loses its pacing when it loops, so the clip outlasts the class. A
    keyframe every second: a publisher reading a file cannot answer Janus's requests for one,
    so a new subscriber waits for the next."""
    faces, rng = faces_for_load(), np.random.default_rng(0)
    with av.open(str(path), "w", format="ivf") as container:
        stream = container.add_stream("libvpx", rate=CLIP_FPS)
        stream.width, stream.height = ANALYSIS_SIZE
        stream.pix_fmt, stream.bit_rate, stream.gop_size = "yuv420p", CLIP_BITRATE, CLIP_FPS
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        for index in range(round(seconds * CLIP_FPS)):
            face = faces[index // CLIP_FPS % len(faces)]
            noise = rng.standard_normal(face.shape, dtype=np.float32) * 3
            frame = av.VideoFrame.from_ndarray(np.clip(face + noise, 0, 255).astype(np.uint8),
                                               format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, CLIP_FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


class Member:
    """Someone in the room over its WebSocket, reading every message as a browser does (and
    answering the server's heartbeat)."""

    def __init__(self) -> None:
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.errors: list[str] = []
        self._inbox: asyncio.Queue[dict] = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()

    async def _join(self, http: aiohttp.ClientSession, url: str, room: str, message: dict,
                    cookie: str | None = None) -> dict:
        self.ws = await http.ws_connect(f"{url}/room/{room}/ws", headers={
            "Cookie": f"{COOKIE}={cookie}"} if cookie else None)
        self._spawn(self._read())
        await self.ws.send_json({"type": "join"} | message)
        return await self._expect("joined")

    async def _expect(self, kind: str) -> dict:
        while (message := await self._inbox.get())["type"] != kind:
            if message["type"] in ("error", "ended"):
                raise RuntimeError(f"the room said {message} awaiting {kind!r}")
        return message

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            await self._on(message.json())

    async def _on(self, message: dict) -> None:
        self._inbox.put_nowait(message)

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(repr(task.exception()))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.ws is not None:
            await self.ws.close()


class Student(Member):
    """A consenting student publishing the clip to Janus."""

    def __init__(self) -> None:
        super().__init__()
        self.connection: RTCPeerConnection | None = None
        self.player: MediaPlayer | None = None
        self.published = False

    async def enter(self, http: aiohttp.ClientSession, url: str, room: RoomLinks, name: str,
                    clip: Path) -> None:
        await self._join(http, url, room.room.name, {"invitation": token(room.guests),
                                                     "name": name, "consent": True})
        self.connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.player = MediaPlayer(str(clip), decode=False)
        self.connection.addTransceiver(self.player.video, direction="sendonly")
        await self.connection.setLocalDescription(await self.connection.createOffer())
        await self.ws.send_json({"type": "publish", "sdp": self.connection.localDescription.sdp})
        answer = await self._expect("published")
        await self.connection.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        self.published = True

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self.player is not None and self.player.video is not None:
            self.player.video.stop()  # its reading thread, and the file
        await super().close()


class Teacher(Member):
    """The class's consultant, signed in, watching the small layer of every student's video as
    soon as the room says it is up, and counting the frames that arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.connections: dict[str, RTCPeerConnection] = {}
        self.frames: dict[str, int] = {}

    async def enter(self, http: aiohttp.ClientSession, url: str, room: RoomLinks,
                    cookie: str) -> None:
        joined = await self._join(http, url, room.room.name,
                                  {"invitation": None, "name": "", "consent": False}, cookie)
        for feed in joined["published"]:
            await self._on({"type": "peer-published", "id": feed})

    def watching(self) -> int:
        """How many students' video has reached the teacher."""
        return sum(1 for frames in self.frames.values() if frames)

    async def _on(self, message: dict) -> None:
        if message["type"] == "peer-published":
            await self.ws.send_json({"type": "subscribe", "feed": message["id"], "substream": 0})
        elif message["type"] == "subscription":
            self._spawn(self._answer(message["feed"], message["sdp"]))
        elif message["type"] == "error":
            self.errors.append(message["message"])
        else:
            await super()._on(message)

    async def _answer(self, feed: str, offer: str) -> None:
        connection = self.connections[feed] = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.frames[feed] = 0

        @connection.on("track")
        def on_track(track) -> None:
            self._spawn(self._count(feed, track))

        # VP8 without retransmissions (RTX): aiortc's stats of a stream and of its
        # retransmissions share one entry, the last overwriting the first; without RTX its
        # packets lost are all that never arrived (Janus still resends on a NACK, in the stream).
        connection.addTransceiver("video", direction="recvonly").setCodecPreferences(VP8)
        await connection.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await connection.setLocalDescription(await connection.createAnswer())
        await self.ws.send_json({"type": "subscribed", "feed": feed,
                                 "sdp": connection.localDescription.sdp})

    async def _count(self, feed: str, track) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames[feed] += 1

    async def close(self) -> None:
        for connection in self.connections.values():
            await connection.close()
        await super().close()


async def _through_janus(url: str, room: RoomLinks, cookie: str, clip: Path, count: int,
                         seconds: float, groups: dict[str, list[int]]
                         ) -> tuple[dict[str, float], dict[str, float]]:
    teacher, students = Teacher(), [Student() for _ in range(count)]
    async with aiohttp.ClientSession() as http:
        try:
            try:
                async with asyncio.timeout(START_TIMEOUT_S):
                    await teacher.enter(http, url, room, cookie)
                    async with asyncio.TaskGroup() as entering:
                        for i, student in enumerate(students):
                            entering.create_task(student.enter(http, url, room, f"student {i}",
                                                               clip))
                    await _until(lambda: _class_up(url, teacher, count))
                await asyncio.sleep(SETTLE_S)  # the last subscriptions' first keyframe
            except TimeoutError:
                raise TimeoutError(
                    f"a class of {count} was not up within {START_TIMEOUT_S:.0f} s: "
                    f"{sum(student.published for student in students)} students published, "
                    f"the teacher subscribed to {len(teacher.connections)}, ingest analyses "
                    f"{(health(url) or {}).get('analysis_peers')}") from None
            watched, analysed = sum(teacher.frames.values()), _frames_received(url)
            cores = await _measure(groups, seconds)
            watched = sum(teacher.frames.values()) - watched
            analysed = _frames_received(url) - analysed
            return cores, {
                f"teacher's frames/s per student (sent {CLIP_FPS})": watched / seconds / count,
                f"ingest's frames/s per student (sent {CLIP_FPS})": analysed / seconds / count,
                "students whose video reached the teacher": teacher.watching(),
                "students ingest analyses at the end":
                    (health(url) or {}).get("analysis_peers", 0),
                **await _losses(students, teacher),
                **{f"UDP datagrams dropped at {name}'s sockets": _udp_drops(pids)
                   for name, pids in groups.items() if name != "workers"}}
        finally:
            for member in (*students, teacher):
                await member.close()


def _class_up(url: str, teacher: Teacher, count: int) -> bool:
    """Every student publishing (``enter`` has returned), watched and analysed."""
    if teacher.errors:
        raise RuntimeError(f"the teacher could not watch the class: {teacher.errors}")
    return (len(teacher.connections) == count
            and (health(url) or {}).get("analysis_peers") == count)


async def _peer_to_peer(url: str, ingest: int, room: RoomLinks, count: int, seconds: float,
                        fps: float, groups: dict[str, list[int]]
                        ) -> tuple[float, dict[str, float]]:
    """bench/room_load.py's ``load`` (ingest's CPU per stream), with the other processes' CPU
    measured over the same window."""

    async def window() -> dict[str, float]:
        await _until(lambda: (health(url) or {}).get("analysis_peers", 0) >= count)
        return await _measure(groups, seconds)

    measuring = asyncio.create_task(window())
    try:
        per_stream = await load(url, ingest, room, count, seconds, fps)
        return per_stream, await measuring
    finally:
        measuring.cancel()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.2)  # polling ingest and the teacher until the class is up


async def _measure(groups: dict[str, list[int]], seconds: float) -> dict[str, float]:
    """Cores used by each group of processes over ``seconds``, and the machine's busy share."""
    start, busy, wall = _cpu(groups), _busy_seconds(), time.monotonic()
    await asyncio.sleep(seconds)  # the measurement window
    elapsed, end = time.monotonic() - wall, _cpu(groups)
    return {name: (end[name] - start[name]) / elapsed for name in groups} | {
        "machine": (_busy_seconds() - busy) / elapsed / os.cpu_count()}


def _cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}


def _busy_seconds() -> float:
    """CPU seconds the machine has spent on anything but idling, all cores together."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait


async def _losses(students: list[Student], teacher: Teacher) -> dict[str, float]:
    """Packets lost since the class began: the students' as Janus reported them (RTCP receiver
    reports), the teacher's as it counted them."""
    sent = lost_up = received = lost_down = 0
    for student in students:
        for stats in (await student.connection.getStats()).values():
            if stats.type == "outbound-rtp":
                sent += stats.packetsSent
            elif stats.type == "remote-inbound-rtp":
                lost_up += stats.packetsLost
    for connection in teacher.connections.values():
        for stats in (await connection.getStats()).values():
            if stats.type == "inbound-rtp":
                received += stats.packetsReceived
                lost_down += stats.packetsLost
    return {"packets sent by the students": sent,
            "packets lost share, students → Janus": lost_up / max(1, sent),
            "packets received by the teacher": received,
            "packets lost share, Janus → teacher": lost_down / max(1, received + lost_down)}


def _frames_received(url: str) -> float:
    """Frames ingest has decoded from analysis tracks (its /metrics)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("econsult_ingest_frames_received_total "):
                return float(line.split()[1])
    return 0.0


def _udp_drops(pids: list[int]) -> int:
    """UDP datagrams the kernel dropped at the sockets of these processes because a receive
    buffer was full: their reader did not keep up. Counted while the sockets are open."""
    sockets = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                if (target := os.readlink(fd)).startswith("socket:["):
                    sockets.add(target[len("socket:["):-1])
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()  # … inode (10th), ref, pointer, drops (13th)
            if fields[9] in sockets:
                drops += int(fields[12])
    return drops


def _cpu_figures(cores: dict[str, float], count: int) -> dict[str, float]:
    figures = {f"{name} % of a core per participant": 100 * cores[name] / count
               for name in GROUPS[:-1] if name in cores}
    return figures | {"load generator % of a core (not counted above)":
                      100 * cores["load generator"], "machine busy share": cores["machine"]}


def _since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: value - before.get(name, 0.0) for name, value in after.items()}


def _labelled(label: str, count: int, figures: dict[str, float]) -> dict[str, float]:
    return {f"{label}: {name.removeprefix(f'{count} participants: ')}": value
            for name, value in figures.items()}


def _drain(settings: Settings, url: str) -> None:
    """Wait for the class's analysis to end and for the workers to store all its frames."""
    client = redis.Redis.from_url(settings.redis_url)
    frames = StreamKeys.for_prefix(settings.redis_prefix).frames
    try:
        wait_for(lambda: (health(url) or {}).get("analysis_peers") == 0
                 and client.xlen(frames) == 0, DRAIN_TIMEOUT_S,
                 "the workers to store every frame of the class", poll_s=0.5)
    finally:
        client.close()


def _start(started: list[EconsultProcess], settings: Settings, command: str,
           ready: Callable[[], bool], logs: Path) -> EconsultProcess:
    """``econsult COMMAND``, its output in a log of its own, once ``ready`` says so."""
    log = logs / f"{command}-{len(started)}.log"
    started.append(service := EconsultProcess(command, econsult(settings, command, log=log)))
    wait_for(lambda: ready() or service.process.poll() is not None, 60, f"{command} to start")
    if service.process.poll() is not None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"econsult {command} exited with code {service.process.returncode}:"
                           f"\n{tail}")
    return service


def _child(pid: int) -> int:
    """The process ``econsult janus`` started: Janus itself (its launcher becomes it)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if not children:
        raise RuntimeError("econsult janus has started no janus process")
    return int(children[0])


def _janus_answers(url: str) -> bool:
    request = urllib.request.Request(f"{url}/info", headers={"Origin": API_ORIGIN})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
