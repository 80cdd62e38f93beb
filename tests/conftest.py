"""Shared fixtures: a database and a Redis key prefix of their own for each test run, migrated
once, against the real PostgreSQL and Redis, and a Janus of the run's own that carries the
calls; workers run as real ``econsult worker`` processes."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from contracts.database import drop_database, engine_for
from contracts.settings import Settings
from migrations.runner import upgrade
from tests.support.ingest import running_ingest
from tests.support.janus import OwnJanus
from tests.support.processes import EconsultProcess, free_port, start_worker
from training import data
from training.fer_clips import Clip, make_clip

CLIP_FACES = 80


@pytest.fixture(scope="session")
def janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnJanus]:
    """The SFU of every ingest the tests start (each session is a Janus room of its own)."""
    own = OwnJanus(tmp_path_factory.mktemp("janus")).start()
    yield own
    own.stop()


@pytest.fixture(scope="session")
def settings(janus: OwnJanus) -> Iterator[Settings]:
    run = uuid.uuid4().hex[:10]
    base = Settings.from_env()
    url = base.database_url.rsplit("/", 1)[0] + f"/econsult_test_{run}"
    test_settings = dataclasses.replace(base, database_url=url, redis_prefix=f"econsult-test-{run}",
                                        claim_idle_ms=3_000, worker_block_ms=200,
                                        summary_every_s=1.0, janus_url=janus.url,
                                        janus_admin_key=janus.admin_key)
    upgrade(url)
    yield test_settings
    drop_database(url)
    client = redis.Redis.from_url(test_settings.redis_url)
    # Tests that need streams of their own extend the prefix (``-recovery``, ``-batch``).
    for key in client.scan_iter(f"{test_settings.redis_prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = engine_for(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


@pytest.fixture
def worker_factory(settings: Settings) -> Iterator[Callable[..., EconsultProcess]]:
    """Start workers for one test; every one still running is stopped afterwards."""
    started: list[EconsultProcess] = []

    def start(name: str | None = None, **overrides: object) -> EconsultProcess:
        worker = start_worker(dataclasses.replace(settings, **overrides),
                              name or f"worker-{uuid.uuid4().hex[:6]}")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def worker(settings: Settings) -> Iterator[EconsultProcess]:
    """One worker shared by the tests that only need the pipeline to be running."""
    process = start_worker(settings, "shared-worker")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def fer_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """An H.264 clip of the first PublicTest faces, each held for one second at 10 fps."""
    faces = data.load(data.PUBLIC_TEST)
    subset = data.FaceSet(faces.images[:CLIP_FACES], faces.labels[:CLIP_FACES])
    return make_clip(tmp_path_factory.mktemp("clips") / "fer.mp4", subset)


@pytest.fixture(scope="session")
def env(settings: Settings) -> dict[str, str]:
    """The environment of an ``econsult`` command run against this test run's services."""
    return {**os.environ, **settings.to_env()}


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ingest_url(settings: Settings, worker: EconsultProcess) -> Iterator[str]:
    with running_ingest(dataclasses.replace(settings, ingest_port=free_port(),
                                            sample_fps=4.0)) as url:
        yield url


@pytest.fixture(scope="session")
def camera_y4m(fer_clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten seconds of FER faces as the fake camera's Y4M (the browser loops it)."""
    path = tmp_path_factory.mktemp("camera") / "faces.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(fer_clip.path), "-t", "10",
                    "-vf", "fps=15,format=yuv420p", str(path)], check=True)
    return path
