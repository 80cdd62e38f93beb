"""Load on the consult room: N participants in one room, each a pure-Python aiortc client that
joins with consent and publishes paced FER faces through the SFU (a Janus of the benchmark's
own, ``econsult janus``), which ingest subscribes to for analysis, as it does to a browser.

Measures ingest's CPU per analysed stream, its memory after many joins and leaves, frames
dropped, and capture→stored latency, with Janus, ingest, workers, PostgreSQL and Redis on one
machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import urllib.request

import numpy as np
from sqlalchemy import text

from bench.pipeline import cleanup, scratch_settings
from bench.services import Services, own_janus
from contracts.database import engine_for
from contracts.invitations import RoomLinks
from contracts.settings import Settings
from ingest.layers import SMALL_LAYER_FPS
from migrations.runner import upgrade
from tests.support.accounts import account, set_up, token
from tests.support.faces import faces_for_load
from tests.support.participants import participant
from tests.support.processes import free_port, health


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


async def load(url: str, pid: int, room: RoomLinks, participants: int, seconds: float,
               fps: float) -> float:
    """Run ``participants`` at once for ``seconds``; ingest CPU share per participant stream."""
    faces, stop, name, invitation = faces_for_load(), asyncio.Event(), room.room.name, token(
        room.guests)
    clients = [asyncio.create_task(participant(url, name, invitation, f"student {i}", faces,
                                               fps, stop))
               for i in range(participants)]
    deadline = time.monotonic() + 60
    while health(url)["analysis_peers"] < participants:
        failed = [task.exception() for task in clients if task.done()]
        if failed or time.monotonic() > deadline:
            stop.set()
            raise RuntimeError(f"participants could not connect: {failed or 'timed out'}")
        await asyncio.sleep(0.2)  # polling ingest until every stream is up
    cpu_start, wall_start = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)  # the measurement window
    share = (cpu_seconds(pid) - cpu_start) / (time.monotonic() - wall_start)
    stop.set()
    await asyncio.gather(*clients)
    return share / participants


async def churn(url: str, room: RoomLinks, joins: int, fps: float) -> None:
    """Join, stream briefly and leave, ``joins`` times, a few at a time."""
    faces, name, invitation = faces_for_load(), room.room.name, token(room.guests)
    for start in range(0, joins, 10):
        stop = asyncio.Event()
        batch = [asyncio.create_task(participant(url, name, invitation, f"p{i}", faces, fps,
                                                 stop))
                 for i in range(start, min(joins, start + 10))]
        await asyncio.sleep(2)
        stop.set()
        await asyncio.gather(*batch)


def run_room_bench(settings: Settings, counts: list[int], seconds: float, workers: int
                   ) -> dict[str, float]:
    bench = room_bench_settings(settings)
    upgrade(bench.database_url)
    engine = engine_for(bench.database_url)
    figures: dict[str, float] = {}
    try:
        with Services("econsult-bench-room-") as services:
            services.janus(bench)
            url, pid = services.ingest(bench)
            for i in range(workers):
                services.worker(bench, f"room-bench-{i}")
            teacher = account(engine)
            for count in counts:
                room = set_up(engine, bench, url, "class", teacher)
                per_stream = asyncio.run(load(url, pid, room, count, seconds, SMALL_LAYER_FPS))
                figures |= room_figures(engine, room.room.name, count, per_stream)
            before = rss_mib(pid)
            asyncio.run(churn(url, set_up(engine, bench, url, "class", teacher), 200,
                              SMALL_LAYER_FPS))
            figures["ingest MiB after 200 joins and leaves (before)"] = before
            figures["ingest MiB after 200 joins and leaves"] = rss_mib(pid)
            return figures | dropped_frames(url)
    finally:
        engine.dispose()
        cleanup(bench)


def room_bench_settings(settings: Settings) -> Settings:
    """``settings`` for loading rooms: a scratch database and streams, ingest on a free port
    taking rooms of any size from this one address, and a Janus of their own."""
    return own_janus(dataclasses.replace(scratch_settings(settings), ingest_port=free_port(),
                                         connections_per_client=10_000, room_capacity=10_000))


def room_figures(engine, room: str, count: int, per_stream: float) -> dict[str, float]:
    with engine.connect() as conn:
        latencies = np.array(conn.scalars(text(
            "SELECT extract(epoch FROM s.stored_at - s.captured_at) FROM samples s "
            "JOIN sessions ON sessions.id = s.session_id WHERE sessions.room = :room"),
            {"room": room}).all(), float)
    figures = {f"{count} participants: ingest % of a core per stream": 100 * per_stream,
               f"{count} participants: frames stored": float(len(latencies))}
    if len(latencies):
        figures[f"{count} participants: capture→stored p50 ms"] = 1000 * np.median(latencies)
        figures[f"{count} participants: capture→stored p95 ms"] = 1000 * np.percentile(
            latencies, 95)
    return figures


def dropped_frames(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    wanted = ("econsult_ingest_frames_sampled_total", "econsult_ingest_frames_dropped_total")
    return {f"ingest {line.split()[0]}": float(line.split()[1])
            for line in lines if line.split() and line.split()[0] in wanted}
