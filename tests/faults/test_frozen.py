"""Redis, PostgreSQL and Janus frozen for 30 s each (SIGSTOP, then SIGCONT), as a network
partition or a hung host freezes them: nothing closes a connection, nothing answers on it.

No econsult process waits longer than ~15 s without saying in its log what it waits for; each
carries on within 10 s of the dependency answering again; ``econsult analyze`` started during a
freeze waits, says so, and completes; a frame is stored once or counted as dropped, never
stored twice. The services run on a Redis, a PostgreSQL and a Janus of this module's own."""

from __future__ import annotations

import dataclasses
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from contracts.database import engine_for
from contracts.settings import Settings
from contracts.stream import StreamKeys, live_workers
from migrations.runner import upgrade
from tests.support.accounts import set_up
from tests.support.figures import record
from tests.support.freezing import frozen
from tests.support.janus import OwnJanus
from tests.support.participants import StreamingParticipant
from tests.support.processes import EconsultProcess, econsult, free_port, health, wait_for
from tests.support.records import participant_named, samples_of
from tests.support.services import OwnPostgres, OwnRedis

FREEZE_S = 30.0
SAID_WITHIN_S = 16.0  # ~15 s, as the issue asks, and the log line's own write
BACK_WITHIN_S = 10.0


@dataclass
class System:
    settings: Settings
    engine: Engine
    redis: OwnRedis
    postgres: OwnPostgres
    janus: OwnJanus
    logs: dict[str, Path]
    url: str
    olga: uuid.UUID


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Ingest and a worker on frozen-to-be services, with Olga streaming into a class."""
    folder = tmp_path_factory.mktemp("frozen")
    redis, postgres = OwnRedis(folder).start(), OwnPostgres().start()
    janus = OwnJanus(folder).start()
    base = Settings.from_env()
    own = dataclasses.replace(base, redis_url=redis.url, database_url=postgres.url,
                              redis_prefix="econsult-frozen", ingest_port=free_port(),
                              janus_url=janus.url, janus_admin_key=janus.admin_key,
                              claim_idle_ms=3_000, worker_block_ms=200)
    upgrade(own.database_url)
    engine = engine_for(own.database_url)
    logs = {name: folder / f"{name}.log" for name in ("ingest", "worker")}
    services = [EconsultProcess("worker", econsult(own, "worker", "--name", "frozen-worker",
                                                   log=logs["worker"])),
                EconsultProcess("ingest", econsult(own, "ingest", log=logs["ingest"]))]
    url = f"http://127.0.0.1:{own.ingest_port}"
    student = None
    try:
        keys = StreamKeys.for_prefix(own.redis_prefix)
        wait_for(lambda: health(url) is not None
                 and live_workers(redis.client(), keys) == ["frozen-worker"], 120,
                 "ingest and the worker to start")
        links = set_up(engine, own, url, "class")
        student = StreamingParticipant(url, links, "Olga")
        olga = participant_named(engine, links.room.name, "Olga").id
        wait_for(lambda: len(samples_of(engine, olga)) >= 3, 60, "Olga's first frames")
        yield System(own, engine, redis, postgres, janus, logs, url, olga)
    finally:
        if student is not None:
            student.leave()
        for service in reversed(services):
            service.stop()
        engine.dispose()
        janus.stop()
        redis.stop()
        postgres.drop()


def test_a_frozen_redis_is_waited_out_and_said(system: System, fer_clip, tmp_path):
    analysis = _while_frozen(system, [system.redis.pid], "Redis", ("ingest", "worker"),
                             fer_clip.path, tmp_path)
    _assert_completed(analysis, "Redis")


def test_a_frozen_postgres_is_waited_out_and_said(system: System, fer_clip, tmp_path):
    # Ingest needs PostgreSQL only to admit people: Olga, in the call, does not wait for it.
    analysis = _while_frozen(system, system.postgres.pids(), "PostgreSQL", ("worker",),
                             fer_clip.path, tmp_path)
    _assert_completed(analysis, "PostgreSQL")


def test_a_frozen_janus_is_waited_out_and_said(system: System, tmp_path):
    _while_frozen(system, [system.janus.pid], "Janus", ("ingest",), None, tmp_path)


def _while_frozen(system: System, pids: list[int], service: str, waiting: tuple[str, ...],
                  video: Path | None, tmp_path: Path) -> Path | None:
    """Freeze ``service`` for ``FREEZE_S`` with Olga streaming (and, given a ``video``, an
    analysis started meanwhile); check that the ``waiting`` services (and the analysis) said
    what they wait for, and that Olga's frames flow again. The analysis's log, once it ended."""
    logs = {name: (system.logs[name], system.logs[name].stat().st_size) for name in waiting}
    analysis = None
    try:
        with frozen(pids):
            started = time.monotonic()
            if video is not None:
                logs["analyze"] = (tmp_path / "analyze.log", 0)
                analysis = econsult(system.settings, "analyze", str(video), "--room",
                                    f"frozen-{uuid.uuid4().hex[:6]}", log=logs["analyze"][0])
            _said_within(SAID_WITHIN_S, service, logs)
            said_s = time.monotonic() - started
            time.sleep(max(0.0, FREEZE_S - said_s))  # the freeze itself: the fault, not a wait
        thawed, stored = time.monotonic(), len(samples_of(system.engine, system.olga))
        wait_for(lambda: len(samples_of(system.engine, system.olga)) > stored, BACK_WITHIN_S,
                 f"Olga's frames to be stored again after {service} answered")
        back_s = time.monotonic() - thawed
        if analysis is not None:
            assert analysis.wait(180) == 0, logs["analyze"][0].read_text()[-2000:]
    finally:
        if analysis is not None and analysis.poll() is None:
            analysis.kill()
    frames = [(s.capture_id, s.seq) for s in samples_of(system.engine, system.olga)]
    assert len(frames) == len(set(frames)), "a frame of Olga's was stored twice"
    # A frame whose publish timed out is counted as dropped, yet Redis may add it once it runs
    # again (the command was in its socket): stored, it still has a number of its own.
    assert len(frames) <= _ingest_count(system.url, "sampled")
    record(f"fault-frozen-{service.lower()}", f"""
{service} frozen {FREEZE_S:.0f} s (SIGSTOP) under a live class{' and a recording' if video
else ''}: every process waiting for it ({', '.join(logs)}) said so within {said_s:.1f} s;
Olga's frames stored again {back_s:.1f} s after it answered; none stored twice.""")
    return logs["analyze"][0] if analysis is not None else None


def _said_within(timeout_s: float, service: str, logs: dict[str, tuple[Path, int]]) -> None:
    """Every log in ``logs`` (a file and where to read it from) names ``service`` in time."""
    try:
        wait_for(lambda: all(service in _new_text(*log) for log in logs.values()), timeout_s,
                 f"every process waiting for {service} to say so")
    except TimeoutError as late:
        pytest.fail(f"{late}; what they said: " + "; ".join(
            f"{name}: {_new_text(*log)[-600:]!r}" for name, log in logs.items()))


def _assert_completed(log: Path | None, service: str) -> None:
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "frames analysed" in text, text[-3000:]
    assert service in text, text[-3000:]


def _new_text(log: Path, since: int) -> str:
    with log.open("rb") as text:
        text.seek(since)
        return text.read().decode(errors="replace")


def _ingest_count(url: str, frames: str) -> float:
    """One of ingest's frame counts (``sampled``, ``dropped``, ``published``) by its /metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return float(re.search(rf"^econsult_ingest_frames_{frames}_total (\S+)$", text,
                           re.M).group(1))
