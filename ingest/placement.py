"""Which ingest holds which room, when several ingests (each with its own Janus) share the rooms.

A live room is held in the memory of one ingest process, whose Janus carries its calls, so
everyone in it must reach that process's WebSocket. Each ingest has an address at which
browsers reach it (``ECONSULT_INGEST_ADDRESS``: a path behind the shared TLS proxy, e.g.
``/ingest/b``; empty for the only one) and announces itself in Redis. The first admission to a
room that no ingest holds places it on the live ingest holding the fewest rooms, in a Redis key
that the holder refreshes while the room is live and removes when it ends; after a crash it
expires within ``HELD_S`` and the room can be placed again. Any ingest can answer the room page
and its admission: the admission tells the browser where to open the WebSocket.

Without Redis (an outage) every ingest takes the rooms it is asked for: one ingest alone goes
on working, and several go on with the rooms they hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections import Counter
from collections.abc import Callable

import redis.asyncio as aredis

from contracts.outage import OUTAGES, first_line
from contracts.settings import SettingsError
from contracts.stream import StreamKeys
from ingest.rooms import RoomError

log = logging.getLogger("econsult.ingest")
# Long enough to read the consent question between the admission and the WebSocket's join.
PLACED_S = 300
HELD_S = 30  # a live room's placement, refreshed every REFRESH_S by its holder
REFRESH_S = 5.0
# Deletes a placement only if it still names this ingest (another may hold the room by now).
_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0"""


def check_address(address: str) -> None:
    """Refuse an address that is neither empty nor a path like ``/ingest/b``."""
    if address and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", address):
        raise SettingsError(f"ECONSULT_INGEST_ADDRESS={address!r} must be a path such as "
                            "/ingest/b (no trailing slash), or unset for a single ingest")


class Placement:
    def __init__(self, client: aredis.Redis, keys: StreamKeys, address: str) -> None:
        self._client, self._keys, self.address = client, keys, address

    async def locate(self, room: str) -> str:
        """The address of the ingest holding ``room``, placing it first if none does."""
        key = self._keys.placement(room)
        try:
            if (held := await self._client.get(key)) is not None:
                if await self._client.exists(self._keys.ingest(held.decode())):
                    return held.decode()
                # Placed on an ingest that has stopped (its announcement expired).
                await self._client.eval(_RELEASE, 1, key, held)
            await self._client.set(key, await self._least_loaded(), ex=PLACED_S, nx=True)
            held = await self._client.get(key)
        except OUTAGES as exc:
            log.warning("cannot see where room %s is held (Redis: %s); taking it here", room,
                        first_line(exc))
            return self.address
        return held.decode() if held is not None else self.address

    async def hold(self, room: str) -> None:
        """Hold ``room`` here, unless another ingest does (RoomError: reload to go there)."""
        key = self._keys.placement(room)
        try:
            await self._client.set(key, self.address, ex=HELD_S, nx=True)
            held = await self._client.get(key)
        except OUTAGES:
            return  # Redis is away: the room stays where the browser came
        if held is not None and held.decode() != self.address:
            raise RoomError("this room is now held by another server of this service: reload "
                            "the page to join it there")

    async def held(self, room: str) -> bool:
        """Whether some ingest holds ``room`` (or, without Redis, might)."""
        try:
            return bool(await self._client.exists(self._keys.placement(room)))
        except OUTAGES:
            return True

    async def release(self, room: str) -> None:
        with contextlib.suppress(*OUTAGES):  # else the placement expires within HELD_S
            await self._client.eval(_RELEASE, 1, self._keys.placement(room), self.address)

    async def keep(self, held: Callable[[], list[str]]) -> None:
        """Runs for the life of the service: say this ingest is up, and keep holding the rooms
        ``held`` names (its live rooms)."""
        while True:
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    pipe.set(self._keys.ingest(self.address), 1, ex=HELD_S)
                    for room in held():
                        pipe.set(self._keys.placement(room), self.address, ex=HELD_S)
                    await pipe.execute()
            except OUTAGES as exc:
                log.warning("cannot renew this ingest's rooms in Redis (%s); trying again in "
                            "%.0f s", first_line(exc), REFRESH_S)
            await asyncio.sleep(REFRESH_S)  # the renewal period

    async def _least_loaded(self) -> str:
        """The live ingest (this one at least) holding the fewest rooms; a tie, any of them."""
        ingests = {key.decode().removeprefix(self._keys.ingest_prefix)
                   async for key in self._client.scan_iter(match=f"{self._keys.ingest_prefix}*",
                                                           count=1000)} | {self.address}
        placed = [key async for key in self._client.scan_iter(
            match=f"{self._keys.placement_prefix}*", count=1000)]
        load = Counter(value.decode() for value in
                       (await self._client.mget(placed) if placed else []) if value is not None)
        fewest = min(load[ingest] for ingest in ingests)
        return random.choice(sorted(i for i in ingests if load[i] == fewest))
