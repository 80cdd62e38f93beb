"""Ingest's side of the stream contract, on the asyncio Redis client."""

from __future__ import annotations

import time

import redis.asyncio as aredis

from contracts.settings import Settings
from contracts.stream import (
    WORKER_GROUP,
    Frame,
    RoomEvent,
    StreamKeys,
    publish_frame,
    publish_room_event,
)

LAG_CHECK_S = 1.0


class StreamPublisher:
    def __init__(self, client: aredis.Redis, settings: Settings) -> None:
        self.client = client
        self.keys = StreamKeys.for_prefix(settings.redis_prefix)
        self._maxlen = settings.stream_maxlen
        self._budget = settings.stream_lag_budget
        self._behind = False
        self._checked = 0.0

    async def frame(self, frame: Frame) -> None:
        await publish_frame(self.client, self.keys, frame, self._maxlen)

    async def room_event(self, event: RoomEvent) -> None:
        await publish_room_event(self.client, self.keys, event)

    async def over_budget(self) -> bool:
        """Are the workers further behind than the lag budget? Asked of Redis once a second."""
        if time.monotonic() - self._checked >= LAG_CHECK_S:
            self._checked = time.monotonic()
            self._behind = await self._unfinished() > self._budget
        return self._behind

    async def _unfinished(self) -> int:
        """Entries the group has not read yet plus those read but not yet acknowledged."""
        try:
            groups = await self.client.xinfo_groups(self.keys.frames)
        except aredis.ResponseError:
            return 0  # no stream yet: nothing is behind
        group = next((g for g in groups if g["name"] in (WORKER_GROUP, WORKER_GROUP.encode())),
                     None)
        if group is None:
            return 0
        return int(group.get("lag") or 0) + int(group["pending"])
