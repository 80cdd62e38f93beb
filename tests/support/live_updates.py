"""Live updates published on Redis as a worker publishes them, for a participant whose faces
read as the test says, and such a participant in a room."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import redis
from sqlalchemy import Engine

from contracts.accounts import COOKIE, sign_in
from contracts.invitations import RoomLinks
from contracts.live_updates import LiveUpdate, LiveUpdates, publish_live_updates
from contracts.stream import StreamKeys
from tests.support.accounts import token
from tests.support.signalling import RoomSocket

# What a participant's page sends to withdraw consent to face analysis.
WITHDRAW = {"type": "consent", "analysis": "face", "given": False}


class Faces:
    """A client's faces read as the test says, two a second of capture time from a minute ago
    (a window's worth of them published at once), as live updates of their session."""

    def __init__(self, client: redis.Redis, prefix: str, joined: dict) -> None:
        self._client, self._keys = client, StreamKeys.for_prefix(prefix)
        self._session, self._person = uuid.UUID(joined["session"]), uuid.UUID(joined["id"])
        self.at = float(round(time.time()) - 60)

    def show(self, face: dict[str, float], seconds: float) -> list[float]:
        """Publish ``seconds`` of ``face``: the capture times published."""
        times = [self.at + i / 2 for i in range(round(2 * seconds))]
        publish_live_updates(self._client, self._keys, LiveUpdates(self._session, [
            LiveUpdate(self._person, datetime.fromtimestamp(at, UTC), True, 0, face)
            for at in times]))
        self.at += seconds
        return times


@asynccontextmanager
async def watched_client(ingest_url: str, engine: Engine, links: RoomLinks, consultant: str,
                         redis_client: redis.Redis, prefix: str
                         ) -> AsyncIterator[tuple[RoomSocket, RoomSocket, Faces]]:
    """The room's consultant, signed in, and Una, a client who agreed to face analysis, both
    joined; her faces are the test's to show."""
    async with aiohttp.ClientSession() as http:
        host = RoomSocket(await http.ws_connect(
            f"{ingest_url}/room/{links.room.name}/ws",
            headers={"Cookie": f"{COOKIE}={sign_in(engine, consultant, 1.0)}"}))
        guest = RoomSocket(await http.ws_connect(f"{ingest_url}/room/{links.room.name}/ws"))
        async with host, guest:
            await host.join(None, "", consent=False)
            faces = Faces(redis_client, prefix,
                          await guest.join(token(links.guests), "Una", consent=True))
            await host.expect("peer-joined")
            yield host, guest, faces


class Guest:
    """A client in the room from a thread of its own (Playwright holds this thread's event
    loop): joined agreeing to face analysis, publishing no video, until :meth:`leave`."""

    def __init__(self, url: str, links: RoomLinks, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.joined = self._run(self._join(url, links, name))

    def withdraw(self) -> None:
        self._run(self._socket.send(WITHDRAW))

    def leave(self) -> None:
        self._run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()

    def _run(self, step):
        return asyncio.run_coroutine_threadsafe(step, self._loop).result(30)

    async def _join(self, url: str, links: RoomLinks, name: str) -> dict:
        self._http = aiohttp.ClientSession()
        self._socket = RoomSocket(await self._http.ws_connect(f"{url}/room/{links.room.name}/ws"))
        return await self._socket.join(token(links.guests), name, consent=True)

    async def _close(self) -> None:
        await self._socket.close()
        await self._http.close()
