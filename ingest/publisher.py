"""Ingest's side of the stream contract, on the asyncio Redis client.

Room events are records: each goes into an outbox, in order, and a sender adds them to the
stream, waiting out an outage of Redis with back-off. Redis keeps nothing on disk, so when it
comes back as a new process (its ``run_id`` changed) whatever it held unread is gone: then
``on_restart`` is called (the rooms announce their state again, see ingest/rooms.py). Frames
are samples: one that cannot be published now is dropped and counted, and the call goes on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable

import redis.asyncio as aredis

from contracts.frames import Frame, publish_frame
from contracts.outage import FIRST_WAIT_S, LONGEST_WAIT_S, OUTAGES, first_line
from contracts.room_events import RoomEvent, publish_room_event
from contracts.settings import Settings
from contracts.stream import Backlog, StreamKeys

log = logging.getLogger("econsult.ingest")
LAG_CHECK_S = 1.0
WATCH_S = 1.0
# Outage lines are logged at most this often: a 30 s outage of a class of 50 is a few lines.
LOG_EVERY_S = 10.0


class StreamPublisher:
    def __init__(self, client: aredis.Redis, settings: Settings,
                 on_restart: Callable[[], None] = lambda: None) -> None:
        self.client = client
        self.keys = StreamKeys.for_prefix(settings.redis_prefix)
        self.on_restart = on_restart
        self._maxlen = settings.stream_maxlen
        self._budget = settings.stream_lag_budget
        self._behind = False
        self._checked = 0.0
        self._outbox: collections.deque[RoomEvent] = collections.deque()
        self._queued = asyncio.Event()
        self._run_id: str | None = None
        self._logged = 0.0
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send_room_events()),
                       asyncio.create_task(self._watch_for_restarts())]

    async def stop(self, flush_s: float) -> None:
        """Send what the outbox holds (for up to ``flush_s``), then stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(flush_s):
                while self._outbox:
                    await asyncio.sleep(0.05)
        if self._outbox:
            log.warning("%d room event(s) could not be sent before stopping: Redis unreachable",
                        len(self._outbox))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def room_event(self, event: RoomEvent) -> None:
        """Queue a room event; it reaches the stream in order, however long Redis is away."""
        self._outbox.append(event)
        self._queued.set()

    async def frame(self, frame: Frame) -> bool:
        """Publish a frame now; False (and a log line now and then) if Redis is unreachable."""
        try:
            await publish_frame(self.client, self.keys, frame, self._maxlen)
        except OUTAGES as exc:
            self._log_outage(f"a frame was dropped: Redis is unreachable ({first_line(exc)})")
            return False
        return True

    async def over_budget(self) -> bool:
        """Are the workers further behind than the lag budget (or Redis out of reach)? Asked of
        Redis once a second."""
        if time.monotonic() - self._checked >= LAG_CHECK_S:
            self._checked = time.monotonic()
            try:
                self._behind = await self._unfinished() > self._budget
            except OUTAGES:
                self._behind = True
        return self._behind

    async def _send_room_events(self) -> None:
        wait = FIRST_WAIT_S
        while True:
            await self._queued.wait()
            while self._outbox:
                try:
                    await publish_room_event(self.client, self.keys, self._outbox[0])
                except OUTAGES as exc:
                    self._log_outage(f"{len(self._outbox)} room event(s) wait for Redis "
                                     f"({first_line(exc)}); retrying")
                    await asyncio.sleep(wait)
                    wait = min(2 * wait, LONGEST_WAIT_S)
                    continue
                self._outbox.popleft()
                wait = FIRST_WAIT_S
            self._queued.clear()

    async def _watch_for_restarts(self) -> None:
        while True:
            with contextlib.suppress(*OUTAGES):
                run_id = (await self.client.info("server"))["run_id"]
                if self._run_id is not None and run_id != self._run_id:
                    log.warning("Redis restarted (run %s, was %s): announcing every live room "
                                "again", run_id, self._run_id)
                    self.on_restart()
                self._run_id = run_id
            await asyncio.sleep(WATCH_S)

    def _log_outage(self, message: str) -> None:
        if time.monotonic() - self._logged >= LOG_EVERY_S:
            self._logged = time.monotonic()
            log.warning(message)

    async def _unfinished(self) -> int:
        """Frames the group has not read yet plus those read but not yet acknowledged."""
        try:
            backlog = Backlog.of(await self.client.xinfo_stream(self.keys.frames),
                                 await self.client.xinfo_groups(self.keys.frames))
        except aredis.ResponseError:
            return 0  # no stream yet: nothing is behind
        return backlog.unread + backlog.pending
