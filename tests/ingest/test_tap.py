"""The tap never lets a slow pipeline back up into the call: over the lag budget it drops
samples and counts them, and it publishes again once the workers catch up. A track that goes
silent is closed, and a tap stops however busy its track is."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import numpy as np
import redis
import redis.asyncio as aredis
from aiortc import VideoStreamTrack
from av import VideoFrame
from prometheus_client import REGISTRY

from contracts.stream import WORKER_GROUP, StreamKeys, ensure_group
from ingest.publisher import StreamPublisher
from ingest.tap import FrameTap
from tests.support.faces import PacedFaces, faces_for_load


def _count(name: str) -> float:
    return REGISTRY.get_sample_value(f"econsult_ingest_frames_{name}_total") or 0.0


async def _until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _tap(track, publisher: StreamPublisher, silence_s: float = 10.0) -> FrameTap:
    return FrameTap(track, uuid.uuid4(), uuid.uuid4(), publisher.frame, publisher.over_budget,
                    sample_fps=10, silence_s=silence_s, jpeg_quality=80, max_width=320)


def test_over_the_lag_budget_samples_are_dropped_and_counted_until_workers_catch_up(settings):
    lagging = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-lag",
                                  stream_lag_budget=5)
    keys = StreamKeys.for_prefix(lagging.redis_prefix)
    backlog = redis.Redis.from_url(lagging.redis_url)
    ensure_group(backlog, keys.frames)
    for _ in range(20):
        backlog.xadd(keys.frames, {"v": "1"})

    async def scenario():
        client = aredis.Redis.from_url(lagging.redis_url)
        tap = _tap(PacedFaces(faces_for_load(), fps=15), StreamPublisher(client, lagging))
        published, dropped = _count("published"), _count("dropped")
        tap.start()
        await _until(lambda: _count("dropped") >= dropped + 3, 10, "samples to be dropped")
        assert _count("published") == published
        # The workers catch up: everything is read and acknowledged.
        backlog.xreadgroup(WORKER_GROUP, "catch-up", {keys.frames: ">"}, count=100)
        for entry_id, _ in backlog.xrange(keys.frames):
            backlog.xack(keys.frames, WORKER_GROUP, entry_id)
        await _until(lambda: _count("published") > published, 10, "publishing to resume")
        await tap.stop()
        await client.aclose()

    try:
        asyncio.run(scenario())
    finally:
        backlog.delete(keys.frames)
        backlog.close()


def test_a_silent_track_is_closed(settings):
    class Silent(VideoStreamTrack):
        async def recv(self):
            await asyncio.Event().wait()

    async def scenario():
        client = aredis.Redis.from_url(settings.redis_url)
        tap = _tap(Silent(), StreamPublisher(client, settings), silence_s=0.3)
        tap.start()
        await asyncio.wait_for(tap.closed.wait(), 5)
        await tap.stop()
        await client.aclose()

    asyncio.run(scenario())


def test_a_tap_stops_while_its_track_delivers_frames_without_pause():
    class Busy(VideoStreamTrack):
        def __init__(self) -> None:
            super().__init__()
            self.delivered = asyncio.Event()

        async def recv(self):
            await asyncio.sleep(0)  # a frame already decoded: ready at once
            self.delivered.set()
            return VideoFrame.from_ndarray(np.zeros((48, 48, 3), np.uint8), format="bgr24")

    async def nowhere(frame) -> bool:
        return True

    async def never_behind() -> bool:
        return False

    async def scenario():
        for _ in range(20):  # a cancel that lands as recv() completes must not be lost
            track = Busy()
            tap = FrameTap(track, uuid.uuid4(), uuid.uuid4(), nowhere, never_behind,
                           sample_fps=10, silence_s=10, jpeg_quality=80, max_width=320)
            tap.start()
            await track.delivered.wait()
            stopping = asyncio.create_task(tap.stop())
            done, _ = await asyncio.wait({stopping}, timeout=5)
            assert stopping in done, "the tap's reader ignored stop() and kept reading"

    asyncio.run(scenario())
