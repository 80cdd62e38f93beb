"""End-to-end figures on the real Redis and PostgreSQL, in a database and streams of their own.

- throughput: pre-encoded frames published at once, timed until every one is stored;
- latency: a 30 fps clip analysed in real time at 5 fps, capture→stored per frame.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import redis
from sqlalchemy import text

from contracts.database import drop_database, engine_for
from contracts.settings import Settings
from migrations.runner import upgrade
from tests.support.processes import start_worker, wait_for
from tests.support.streams import join, publish_images, stored_samples
from training import data
from training.fer_clips import framed_face, make_clip

THROUGHPUT_FRAMES = 600
LATENCY_FACES = 30


def scratch_settings(settings: Settings) -> Settings:
    run = uuid.uuid4().hex[:8]
    url = settings.database_url.rsplit("/", 1)[0] + f"/econsult_bench_{run}"
    return dataclasses.replace(settings, database_url=url, redis_prefix=f"econsult-bench-{run}")


def run_pipeline_bench(settings: Settings, workers: int) -> dict[str, float]:
    bench = scratch_settings(settings)
    upgrade(bench.database_url)
    client = redis.Redis.from_url(bench.redis_url)
    engine = engine_for(bench.database_url)
    running = [start_worker(bench, f"bench-{i}") for i in range(workers)]
    try:
        faces = data.load(data.PUBLIC_TEST).images
        images = [framed_face(faces[i % len(faces)]) for i in range(THROUGHPUT_FRAMES)]
        joined = join(client, bench)
        start = time.perf_counter()
        publish_images(client, bench, joined, images)
        wait_for(lambda: stored_samples(engine, joined.participant_id) == THROUGHPUT_FRAMES,
                 600, "every benchmark frame to be stored", poll_s=0.01)
        elapsed = time.perf_counter() - start
        with engine.connect() as conn:
            faces_found = conn.scalar(text("SELECT count(*) FROM emotion_events"))
        figures = {f"pipeline frames/s, {workers} workers": THROUGHPUT_FRAMES / elapsed,
                   f"pipeline faces/s, {workers} workers": faces_found / elapsed}
        figures |= _latency(bench)
        return figures
    finally:
        for worker in running:
            worker.stop()
        client.close()
        engine.dispose()
        cleanup(bench)


def _latency(bench: Settings) -> dict[str, float]:
    faces = data.load(data.PUBLIC_TEST)
    subset = data.FaceSet(faces.images[:LATENCY_FACES], faces.labels[:LATENCY_FACES])
    with tempfile.TemporaryDirectory() as folder:
        clip = make_clip(Path(folder) / "call.mp4", subset, fps=30)
        env = {**os.environ, **dataclasses.replace(bench, sample_fps=5.0).to_env()}
        subprocess.run([sys.executable, "-m", "cli.main", "analyze", str(clip.path), "--room",
                        "latency", "--realtime"], env=env, check=True, capture_output=True)
    engine = engine_for(bench.database_url)
    with engine.connect() as conn:
        latencies = np.array(conn.scalars(text(
            "SELECT extract(epoch FROM s.stored_at - s.captured_at) FROM samples s "
            "JOIN sessions ON sessions.id = s.session_id WHERE sessions.room = 'latency'")).all(),
            float)
    engine.dispose()
    return {"capture→stored p50 ms (30 fps clip at 5 fps)": 1000 * np.percentile(latencies, 50),
            "capture→stored p95 ms (30 fps clip at 5 fps)": 1000 * np.percentile(latencies, 95)}


def cleanup(bench: Settings) -> None:
    """Drop the benchmark's database and Redis keys."""
    drop_database(bench.database_url)
    client = redis.Redis.from_url(bench.redis_url)
    for key in client.scan_iter(f"{bench.redis_prefix}:*"):
        client.delete(key)
    client.close()
