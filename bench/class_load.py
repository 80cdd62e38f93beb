"""A class through the SFU (Janus, ``econsult janus``): N students, each a pure-Python aiortc
client that joins with the class's invitation and consent and publishes pre-encoded VP8 (FER
faces, 320x240, at the small layer's frame rate and in its three temporal layers, as a
browser's small layer: bench/layered_clip.py; read with ``MediaPlayer(decode=False)``, so the
load generator encodes nothing); the teacher, in their own headless Chromium, signed in, opens
the room in a laptop's window and watches the small layer of the students whose thumbnail is on
screen; ingest analyses what Janus relays of each student.

Over a window of ``seconds`` once every student publishes and is analysed (and those on the
teacher's screen play in the gallery): the CPU of ingest, the workers, Janus, Redis and
PostgreSQL per participant, and the server's total, projected to classes of 50 and 100; the
teacher's Chromium's (its whole process tree) and the load generator's own (neither counted per
participant, but both share the machine); the video the teacher's Chromium received (kbit/s)
and decoded (frames/s per student), as its WebRTC stats count them; the frames per student that
reach ingest. Over the whole class: packets lost on the students' way to Janus (as Janus reports
them) and on Janus's way to the teacher (as Chromium counts them), UDP datagrams dropped at each
process's sockets (a reader too slow), capture→stored latency of the analysed frames, and the
frames ingest sampled and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import redis
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaPlayer
from playwright.async_api import Browser, Page
from sqlalchemy import Engine, text

from bench.gallery import (
    Received,
    chromium,
    on_screen,
    open_gallery,
    received,
    tree_cpu_seconds,
)
from bench.layered_clip import (
    CLIP_FPS,
    KEYFRAME_S,
    as_simulcast,
    layered_packetizer,
    make_clip,
)
from bench.pipeline import cleanup
from bench.room_load import (
    cpu_seconds,
    dropped_frames,
    room_bench_settings,
    room_figures,
)
from bench.services import Services
from contracts.accounts import Account, sign_in
from contracts.database import engine_for
from contracts.invitations import RoomLinks
from contracts.settings import Settings
from contracts.stream import StreamKeys
from migrations.runner import upgrade
from tests.support.accounts import account, set_up, token
from tests.support.processes import descendants, health, wait_for
from tests.support.records import ingest_count
from tests.support.signalling import RoomSocket

START_TIMEOUT_S = 120.0  # for a whole class to join, publish and be analysed
SETTLE_S = KEYFRAME_S  # a new subscriber waits up to a keyframe interval for its first frame
DRAIN_TIMEOUT_S = 300.0  # for the workers to store the frames of a class once it is over
SERVER = ("ingest", "workers", "Janus", "Redis", "PostgreSQL")  # counted per participant
TEACHER = "teacher's browser"  # their Chromium
# A class is measured only where this machine can carry it: beyond this share of its cores
# (as the two largest classes measured foretell), the figures would measure the overload.
MACHINE_LIMIT = 0.9
PROJECTED = (50, 100)  # class sizes the server's cost is projected to
RECEIVED = "frames_received"  # ingest's count of the frames of analysis tracks it decoded
SERVER_TOTAL = f"server % of a core per participant ({' + '.join(SERVER)})"


@dataclasses.dataclass
class Bench:
    """What every class size is measured with: ingest (by URL and process id), the processes
    whose CPU counts, the students' clip and the teacher, signed in."""

    engine: Engine
    settings: Settings
    url: str
    ingest: int
    janus: int
    workers: list[int]
    postgres: int  # PostgreSQL's postmaster: its backends and helpers are under it
    redis: redis.Redis
    clip: Path
    teacher: Account  # the consultant of every class
    cookie: str  # their sign-in


def run_class_bench(settings: Settings, counts: list[int], seconds: float, workers: int
                    ) -> dict[str, float]:
    own = room_bench_settings(settings)
    upgrade(own.database_url)
    engine = engine_for(own.database_url)
    client = redis.Redis.from_url(own.redis_url)
    figures: dict[str, float] = {}
    try:
        with Services("econsult-bench-class-") as services:
            janus = services.janus(own)
            url, ingest = services.ingest(own)
            worker_pids = [services.worker(own, f"class-bench-{i}") for i in range(workers)]
            teacher = account(engine)
            bench = Bench(engine, own, url, ingest, janus, worker_pids, _postmaster(engine),
                          client,
                          make_clip(services.folder / "faces.ivf",
                                    START_TIMEOUT_S + seconds + 30),
                          teacher, sign_in(engine, teacher, 4.0))
            measured: dict[int, dict[str, float]] = {}
            for count in sorted(counts):
                if not _carried(measured, count):
                    continue
                print(f"  a class of {count} through Janus …", flush=True)
                measured[count] = _class(bench, count, seconds)
                figures |= _labelled(f"class of {count}", count, measured[count])
            return figures | _projected(measured)
    finally:
        client.close()
        engine.dispose()
        cleanup(own)


def _carried(measured: dict[int, dict[str, float]], count: int) -> bool:
    """Whether this machine can carry a class of ``count``, as the two largest classes measured
    foretell by what each student added (after a single class, nothing foretells it: it is
    run). Says why not when it cannot."""
    if len(measured) < 2:
        return True
    sizes = sorted(measured)[-2:]
    busy = [measured[size]["machine busy share"] for size in sizes]
    per_student = (busy[1] - busy[0]) / (sizes[1] - sizes[0])
    foretold = busy[1] + per_student * (count - sizes[1])
    if foretold <= MACHINE_LIMIT:
        return True
    print(f"  a class of {count} is not run: this machine ({os.cpu_count()} cores) would be "
          f"{foretold:.0%} busy (a class of {sizes[1]} kept it {busy[1]:.0%} busy, each "
          f"student adding {per_student:.1%}), and its figures would measure the overload",
          flush=True)
    return False


def _projected(measured: dict[int, dict[str, float]]) -> dict[str, float]:
    """The server's cores for larger classes, in proportion to the largest class measured (its
    cost per participant only falls as a class grows: the projection errs high)."""
    if not measured:
        return {}
    largest = max(measured)
    per = measured[largest][SERVER_TOTAL]
    return {f"server for a class of {size}, % of a core, projected: {size} × {per:.2f} "
            f"(class of {largest})": size * per for size in PROJECTED if size > largest}


def _class(bench: Bench, count: int, seconds: float) -> dict[str, float]:
    room = set_up(bench.engine, bench.settings, bench.url, "class", bench.teacher)
    before = dropped_frames(bench.url)
    with layered_packetizer():
        cores, measured = asyncio.run(_lesson(bench, room, count, seconds))
    _drain(bench.settings, bench.url)
    return (measured | room_figures(bench.engine, room.room.name, count, cores["ingest"] / count)
            | _cpu_figures(cores, count) | _since(before, dropped_frames(bench.url)))


class Student:
    """A consenting student publishing the clip to Janus over the room's socket."""

    def __init__(self) -> None:
        self.socket: RoomSocket | None = None
        self.player: MediaPlayer | None = None
        self.connection: RTCPeerConnection | None = None
        self.published = False

    async def enter(self, http: aiohttp.ClientSession, url: str, room: RoomLinks, name: str,
                    clip: Path) -> None:
        # No wait of its own times out: the class's START_TIMEOUT_S bounds them all.
        self.socket = RoomSocket(await http.ws_connect(f"{url}/room/{room.room.name}/ws"),
                                 timeout_s=None)
        await self.socket.join(token(room.guests), name, consent=True)
        self.player = MediaPlayer(str(clip), decode=False)
        self.connection = await self.socket.publish(self.player.video, offered=as_simulcast)
        self.published = True

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.player is not None and self.player.video is not None:
            self.player.video.stop()  # its reading thread, and the file


async def _lesson(bench: Bench, room: RoomLinks, count: int, seconds: float
                  ) -> tuple[dict[str, float], dict[str, float]]:
    """A class of ``count`` up, then measured: the cores each group of processes used and the
    other figures of the window."""
    students = [Student() for _ in range(count)]
    async with chromium() as (browser, browser_pid), aiohttp.ClientSession() as http:
        try:
            gallery = await _class_up(bench, room, browser, http, students)
            start, analysed = await received(gallery), ingest_count(bench.url, RECEIVED)
            cores = await _measure(_cpu_counters(bench, browser_pid), seconds)
            end, analysed = await received(gallery), ingest_count(bench.url, RECEIVED) - analysed
            sockets = {"Janus": [bench.janus], "ingest": [bench.ingest],
                       "load generator": [os.getpid()],
                       TEACHER: [browser_pid, *descendants(browser_pid)]}
            return cores, _gallery_figures(start, end, seconds, await on_screen(gallery)) | {
                f"ingest's frames/s per student (sent {CLIP_FPS})": analysed / seconds / count,
                "students ingest analyses at the end":
                    (health(bench.url) or {}).get("analysis_peers", 0),
                **await _losses(students, end),
                **{f"UDP datagrams dropped at {name}'s sockets": _udp_drops(pids)
                   for name, pids in sockets.items()}}
        finally:
            for student in students:
                await student.close()


async def _class_up(bench: Bench, room: RoomLinks, browser: Browser,
                    http: aiohttp.ClientSession, students: list[Student]) -> Page:
    """The teacher's gallery open, then every student publishing and analysed, and those on the
    teacher's screen playing in the gallery (or, on a machine that cannot carry the class, as
    many as are after ``START_TIMEOUT_S``: the figures then show the overload); the gallery's
    page."""
    count = len(students)
    gallery = await open_gallery(browser, bench.url, room.own, bench.cookie)
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            async with asyncio.TaskGroup() as entering:
                for i, student in enumerate(students):
                    entering.create_task(student.enter(http, bench.url, room, f"student {i}",
                                                       bench.clip))
            await _until(lambda: _up(bench.url, gallery, count))
        await asyncio.sleep(SETTLE_S)  # the last subscriptions' first keyframe
    except TimeoutError:
        print(f"  not all of the class was up within {START_TIMEOUT_S:.0f} s (the machine is "
              f"overloaded): {sum(student.published for student in students)} students "
              f"published, {(await received(gallery)).playing} played in the teacher's gallery, "
              f"ingest analyses {(health(bench.url) or {}).get('analysis_peers')}; measuring "
              "the class as it is", flush=True)
    return gallery


async def _up(url: str, gallery: Page, count: int) -> bool:
    """Every student analysed by ingest, and those on screen playing in the teacher's gallery."""
    return ((health(url) or {}).get("analysis_peers") == count
            and (await received(gallery)).playing == await on_screen(gallery))


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    while not await condition():
        await asyncio.sleep(0.5)  # polling ingest and the gallery until the class is up


def _cpu_counters(bench: Bench, browser: int) -> dict[str, Callable[[], float]]:
    """The CPU seconds, so far, of each group of processes measured."""
    return {"Janus": lambda: cpu_seconds(bench.janus),
            "ingest": lambda: cpu_seconds(bench.ingest),
            "workers": lambda: sum(cpu_seconds(pid) for pid in bench.workers),
            "Redis": lambda: _redis_cpu_seconds(bench.redis),
            "PostgreSQL": lambda: tree_cpu_seconds(bench.postgres),
            "load generator": lambda: cpu_seconds(os.getpid()),
            TEACHER: lambda: tree_cpu_seconds(browser)}


async def _measure(counters: dict[str, Callable[[], float]], seconds: float
                   ) -> dict[str, float]:
    """Cores used by each group of processes over ``seconds``, and the machine's busy share."""
    start, busy, wall = _cpu(counters), _busy_seconds(), time.monotonic()
    await asyncio.sleep(seconds)  # the measurement window
    elapsed, end = time.monotonic() - wall, _cpu(counters)
    return {name: (end[name] - start[name]) / elapsed for name in counters} | {
        "machine": (_busy_seconds() - busy) / elapsed / os.cpu_count()}


def _cpu(counters: dict[str, Callable[[], float]]) -> dict[str, float]:
    return {name: counter() for name, counter in counters.items()}


def _busy_seconds() -> float:
    """CPU seconds the machine has spent on anything but idling, all cores together."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait


def _gallery_figures(start: Received, end: Received, seconds: float, shown: int
                     ) -> dict[str, float]:
    """What the teacher's Chromium received and decoded over the window."""
    frames = (end.frames - start.frames) / seconds
    return {f"{TEACHER} received kbit/s (video)": 8 * (end.bytes - start.bytes) / seconds / 1000,
            f"students' thumbnails on the {TEACHER}'s screen": shown,
            f"students whose video the {TEACHER} decoded": end.playing,
            f"{TEACHER} frames/s per student decoded (sent {CLIP_FPS})":
                frames / max(1, end.playing),
            f"{TEACHER} frames/s, all students": frames}


async def _losses(students: list[Student], teacher: Received) -> dict[str, float]:
    """Packets lost since the class began: the students' as Janus reported them (RTCP receiver
    reports), the teacher's as their Chromium counted them."""
    sent = lost = 0
    for student in students:
        for stats in (await student.connection.getStats()).values():
            if stats.type == "outbound-rtp":
                sent += stats.packetsSent
            elif stats.type == "remote-inbound-rtp":
                lost += stats.packetsLost
    return {"packets sent by the students": sent,
            "packets lost share, students → Janus": lost / max(1, sent),
            "packets received by the teacher": teacher.packets,
            "packets lost share, Janus → teacher":
                teacher.lost / max(1, teacher.packets + teacher.lost)}


def _udp_drops(pids: list[int]) -> int:
    """UDP datagrams the kernel dropped at the sockets of these processes because a receive
    buffer was full: their reader did not keep up. Counted while the sockets are open."""
    sockets = set().union(*(_sockets(pid) for pid in pids))
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()  # … inode (10th), ref, pointer, drops (13th)
            if fields[9] in sockets:
                drops += int(fields[12])
    return drops


def _sockets(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` holds open (none once it has ended)."""
    found = set()
    with contextlib.suppress(FileNotFoundError):  # it ended
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                if (target := os.readlink(fd)).startswith("socket:["):
                    found.add(target[len("socket:["):-1])
    return found


def _cpu_figures(cores: dict[str, float], count: int) -> dict[str, float]:
    # ingest's own is in room_figures, per stream (every participant here is one)
    figures = {f"{name} % of a core per participant": 100 * cores[name] / count
               for name in SERVER if name != "ingest"}
    return figures | {SERVER_TOTAL: 100 * sum(cores[name] for name in SERVER) / count,
                      f"{TEACHER} % of a core (whole process tree)": 100 * cores[TEACHER],
                      "load generator % of a core (not counted above)":
                          100 * cores["load generator"],
                      "machine busy share": cores["machine"]}


def _postmaster(engine: Engine) -> int:
    """The process id of the PostgreSQL serving ``engine``, which runs on this machine: the
    parent of the backend of a connection."""
    with engine.connect() as conn:
        backend = conn.scalar(text("SELECT pg_backend_pid()"))
    with open(f"/proc/{backend}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _redis_cpu_seconds(client: redis.Redis) -> float:
    """The CPU seconds Redis has used, as it counts them."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])


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
