"""A class: a teacher in a browser and five students (aiortc clients answering like browsers).
Every student sees the teacher, and the teacher's copies are sent small enough for a class."""

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
from tests.support.browsers import launcher

STUDENTS = 5
TIMEOUT_MS = 60_000


class Students:
    """Students who answer the teacher's call and count the video frames they receive."""

    def __init__(self, url: str, room: str) -> None:
        self.url, self.room = url, room
        self.frames: dict[int, int] = dict.fromkeys(range(STUDENTS), 0)
        self._stop = threading.Event()
        self._counting: set[asyncio.Future] = set()
        self._thread = threading.Thread(target=asyncio.run, args=(self._all(),), daemon=True)

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
            await ws.send_json({"type": "join", "name": f"student {index}", "role": "student",
                                "consent": False})
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


def test_every_student_sees_the_teacher_who_sends_class_sized_video(ingest_url, camera_y4m):
    room = f"class-{uuid.uuid4().hex[:6]}"
    with launcher(camera_y4m) as launch, Students(ingest_url, room) as students:
        teacher = launch().new_page()
        teacher.goto(f"{ingest_url}/room/{room}?role=consultant&name=Ms%20Lee")
        expect(teacher.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        wait_for(lambda: all(n >= 10 for n in students.frames.values()), 60,
                 "every student to receive the teacher's video")
        teacher.wait_for_function(
            "() => document.querySelectorAll('#participants .participant').length === 5",
            timeout=TIMEOUT_MS)
        scales = teacher.evaluate("""() => window.econsultConnections().flatMap(pc =>
            pc.getSenders().filter(s => s.track && s.track.kind === 'video')
              .map(s => s.getParameters().encodings[0].scaleResolutionDownBy))""")
    assert scales == [2] * STUDENTS
