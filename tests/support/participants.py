"""Participants that join a room and stream faces for analysis, as pure-Python aiortc clients
(those of ``econsult bench room``); here also from a thread of their own, while a test breaks
things around them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine

import aiohttp
import numpy as np
from aiortc import RTCPeerConnection

from contracts.invitations import RoomLinks
from tests.support.accounts import token
from tests.support.faces import PacedFaces, faces_for_load
from tests.support.signalling import RoomEnded, RoomSocket

FPS = 5.0


async def participant(url: str, room: str, invitation: str, name: str, faces: list[np.ndarray],
                      fps: float, stop: asyncio.Event) -> None:
    """A consenting student invited to ``room``, publishing faces through the SFU (which ingest
    analyses) until ``stop`` is set. Joins as a browser does: the admission says where; and, as
    the page does, publishes again when its connection to the SFU fails (Janus frozen longer
    than ICE's consent checks allow, say)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/room/{room}/admission",
                             json={"invitation": invitation}) as reply:
            admitted = await reply.json()
        if reply.status != 200:
            raise RuntimeError(f"{name} was not admitted to {room}: {admitted['error']}")
        async with RoomSocket(await http.ws_connect(f"{url}{admitted['socket']}")) as room_socket:
            await room_socket.join(invitation, name, consent=True)
            while not stop.is_set():
                try:
                    connection = await room_socket.publish(PacedFaces(faces, fps))
                except RoomEnded:  # ingest stopped, say: nothing to publish to any more
                    await stop.wait()
                    return
                await _first(stop.wait(), _failed(connection))
                await connection.close()


async def _failed(connection: RTCPeerConnection) -> None:
    """Returns when ``connection`` fails, or closes on its own (aiortc closes it when ICE's
    consent to send expires: 30 s without an answer)."""
    failed = asyncio.Event()

    @connection.on("connectionstatechange")
    def changed() -> None:
        if connection.connectionState in ("failed", "closed"):
            failed.set()

    await failed.wait()


async def _first(*waits: Coroutine) -> None:
    """Return when the first of ``waits`` does, the others cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


class StreamingParticipant:
    """A consenting student invited to ``room`` until :meth:`leave`."""

    def __init__(self, url: str, room: RoomLinks, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(url, room, name), daemon=True)
        self._thread.start()

    def leave(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)  # its loop is closed only here
        self._thread.join(30)
        if self._thread.is_alive():
            raise TimeoutError("the participant did not leave within 30 s")
        self._loop.close()
        if self._error is not None:
            raise self._error

    def _run(self, url: str, room: RoomLinks, name: str) -> None:
        try:
            self._loop.run_until_complete(participant(
                url, room.room.name, token(room.guests), name, faces_for_load(), FPS,
                self._stop))
        except BaseException as exc:  # handed to the test in leave()
            self._error = exc
