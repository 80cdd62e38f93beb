"""A class: a teacher signed in, in a browser, and five invited students (aiortc clients
answering like browsers). Every student sees the teacher, and the teacher's copies are sent
small enough for a class."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from playwright.sync_api import expect

from bench.processes import wait_for
from bench.rooms import account, set_up, token
from contracts.invitations import RoomLinks
from tests.support.browsers import launcher
from tests.support.rooms import signed_in

STUDENTS = 5
TIMEOUT_MS = 60_000


class Students:
    """Students who answer the teacher's call and count the video frames they receive."""

    def __init__(self, url: str, room: RoomLinks) -> None:
        self.url, self.room, self.invitation = url, room.room.name, token(room.guests)
        self.frames: dict[int, int] = dict.fromkeys(range(STUDENTS), 0)
        self.refusals: list[dict] = []  # what the room answered a student it did not admit
        self._stop = threading.Event()
        self._counting: set[asyncio.Future] = set()
        self._thread = threading.Thread(target=asyncio.run, args=(self._all(),), daemon=True)

    def received(self, frames: int) -> bool:
        """Whether every student has received ``frames`` of the teacher's video."""
        assert not self.refusals, f"students were not admitted: {self.refusals}"
        return all(n >= frames for n in self.frames.values())

    def __enter__(self) -> Students:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _all(self) -> None:
        await asyncio.gather(*(self._student(i) for i in range(STUDENTS)))

    async def _student(self, index: int) -> None:
        connections: list[RTCPeerConnection] = []
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"{self.url}/room/{self.room}/ws") as ws:
            await ws.send_json({"type": "join", "invitation": self.invitation,
                                "name": f"student {index}", "consent": False})
            joined = await ws.receive_json(timeout=30)
            if joined["type"] != "joined":
                self.refusals.append(joined)
                return
            while not self._stop.is_set():
                try:
                    message = await ws.receive_json(timeout=0.5)
                except TimeoutError:
                    continue
                if message["type"] == "signal" and message["description"]["type"] == "offer":
                    connections.append(await self._answer(ws, message, index))
        for task in self._counting:
            task.cancel()
        for connection in connections:
            await connection.close()

    async def _answer(self, ws, message: dict, index: int) -> RTCPeerConnection:
        connection = RTCPeerConnection()

        @connection.on("track")
        def on_track(track) -> None:
            if track.kind == "video":
                self._counting.add(asyncio.ensure_future(self._count(track, index)))

        await connection.setRemoteDescription(RTCSessionDescription(**message["description"]))
        await connection.setLocalDescription(await connection.createAnswer())
        await ws.send_json({"type": "signal", "to": message["from"], "description": {
            "type": "answer", "sdp": connection.localDescription.sdp}})
        return connection

    async def _count(self, track, index: int) -> None:
        with contextlib.suppress(MediaStreamError):  # the teacher's track ended
            while not self._stop.is_set():
                await track.recv()
                self.frames[index] += 1


def test_every_student_sees_the_teacher_who_sends_class_sized_video(ingest_url, camera_y4m,
                                                                     engine, settings):
    lee = account(engine, username=f"Ms Lee {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, ingest_url, "class", lee)
    with launcher(camera_y4m) as launch, Students(ingest_url, links) as students:
        teacher = signed_in(launch(), engine, lee, ingest_url).new_page()
        teacher.goto(links.own)
        expect(teacher.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        wait_for(lambda: students.received(10), 60,
                 "every student to receive the teacher's video")
        teacher.wait_for_function(
            "() => document.querySelectorAll('#participants .participant').length === 5",
            timeout=TIMEOUT_MS)
        scales = teacher.evaluate("""() => window.econsultConnections().flatMap(pc =>
            pc.getSenders().filter(s => s.track && s.track.kind === 'video')
              .map(s => s.getParameters().encodings[0].scaleResolutionDownBy))""")
    assert scales == [2] * STUDENTS
