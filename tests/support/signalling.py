"""The room's signalling as a participant's page speaks it (room.js), for aiortc clients in tests
and the benchmark: join, then publish through the SFU (an offer in ``publish``, Janus's answer
in ``published``), over a WebSocket read all the time, as the page reads it, so that the
server's heartbeat is answered and every message waits, in order, for whoever expects it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

TIMEOUT_S = 30.0
CLOSED = "socket-closed"  # what the reader hears last: no message of the room's


class RoomEnded(RuntimeError):
    """The room ended the session, or its socket closed, while a message was awaited."""


class RoomSocket:
    """A participant's WebSocket to a room and the peer connections made over it; closing it
    closes them all. Each wait for a message fails after ``timeout_s`` (None: never)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout_s: float | None = TIMEOUT_S
                 ) -> None:
        self.ws = ws
        self.connections: list[RTCPeerConnection] = []
        self._timeout_s = timeout_s
        self._inbox: asyncio.Queue[dict] = asyncio.Queue()
        self._reading = asyncio.create_task(self._read())

    async def __aenter__(self) -> RoomSocket:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def join(self, invitation: str | None, name: str, consent: bool,
                   voice: bool = False) -> dict:
        """Enter with ``invitation`` (None for a consultant signed in by cookie), agreeing to
        face analysis if ``consent`` and to voice analysis if ``voice``: the room's
        ``joined``."""
        await self.send({"type": "join", "invitation": invitation, "name": name,
                         "consent": {"face": consent, "voice": voice}})
        return await self.expect("joined")

    async def publish(self, track: MediaStreamTrack, answered: bool = True,
                      offered: Callable[[str], str] = str) -> RTCPeerConnection:
        """Publish ``track`` through the SFU: its connection. Unless ``answered``, Janus's answer
        is left unapplied, so the video never comes up. The SFU is sent ``offered`` of the
        offer (a publisher that declares more than aiortc does)."""
        connection = self.connection()
        connection.addTransceiver(track, direction="sendonly")
        await connection.setLocalDescription(await connection.createOffer())
        await self.send({"type": "publish", "sdp": offered(connection.localDescription.sdp)})
        answer = await self.expect("published")
        if answered:
            await connection.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return connection

    def connection(self) -> RTCPeerConnection:
        """A new peer connection, closed with the socket. No ICE servers: Janus and the
        participant are on one machine."""
        self.connections.append(connection := RTCPeerConnection(RTCConfiguration(iceServers=[])))
        return connection

    async def send(self, message: dict) -> None:
        await self.ws.send_json(message)

    async def receive(self) -> dict:
        """The next message the room sent."""
        async with asyncio.timeout(self._timeout_s):
            return await self._inbox.get()

    async def expect(self, kind: str) -> dict:
        """The next message of ``kind``, those before it passed over; the room's error, or the
        session's end (:class:`RoomEnded`), before it fails the wait."""
        async with asyncio.timeout(self._timeout_s):
            while (message := await self._inbox.get())["type"] != kind:
                if message["type"] in ("ended", CLOSED):
                    raise RoomEnded(f"the room said {message} awaiting {kind!r}")
                if message["type"] == "error":
                    raise RuntimeError(f"the room said {message} awaiting {kind!r}")
        return message

    def heard(self, message: dict) -> None:
        """Keep a message the room sent for :meth:`receive` and :meth:`expect` (a subclass may
        note it on the way)."""
        self._inbox.put_nowait(message)

    async def close(self) -> None:
        self._reading.cancel()
        for connection in self.connections:
            await connection.close()
        await self.ws.close()

    async def _read(self) -> None:
        async for message in self.ws:
            self.heard(message.json())
        self.heard({"type": CLOSED})
