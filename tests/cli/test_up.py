"""`econsult up` ends, and its services with it, however it was started and however it is
stopped: started in the background by a script (which leaves SIGINT ignored), a Ctrl-C stops
it within 15 s; killed outright, it leaves no service running 10 s later."""

from __future__ import annotations

import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from contracts.settings import Settings
from contracts.stream import StreamKeys, live_workers
from tests.support.processes import descendants, free_port, health, wait_for

STOPPED_WITHIN_S = 15.0
ORPHANS_GONE_WITHIN_S = 10.0


@pytest.fixture
def own(settings: Settings) -> Settings:
    """Settings of an `econsult up` of its own: streams, ports and Janus of its own."""
    return dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-up-"
                               f"{uuid.uuid4().hex[:6]}", ingest_port=free_port(),
                               dashboard_port=free_port(),
                               janus_url=f"http://127.0.0.1:{free_port()}/janus",
                               janus_admin_key="", workers=1)


def test_up_started_in_the_background_by_a_script_stops_on_ctrl_c(own, redis_client,
                                                                   tmp_path):
    up, services = _started_by_a_script(own, redis_client, tmp_path)
    try:
        os.kill(up, signal.SIGINT)
        stopping = time.monotonic()
        wait_for(lambda: not _alive(up), STOPPED_WITHIN_S, "econsult up to stop on SIGINT")
        stopped_s = time.monotonic() - stopping
        assert not [pid for pid in services if _alive(pid)], "a service outlived econsult up"
    finally:
        _kill([up, *services])
    log = (tmp_path / "up.log").read_text()
    assert "ingest stopped" in log and "janus stopped" in log, log[-2000:]
    print(f"econsult up started with & stopped {stopped_s:.1f} s after SIGINT")


def test_up_killed_outright_takes_its_services_with_it(own, redis_client, tmp_path):
    up, services = _started_by_a_script(own, redis_client, tmp_path)
    try:
        os.kill(up, signal.SIGKILL)
        wait_for(lambda: not [pid for pid in services if _alive(pid)], ORPHANS_GONE_WITHIN_S,
                 "every service of the killed econsult up to end")
    finally:
        _kill([up, *services])


def _started_by_a_script(own: Settings, redis_client: redis.Redis, tmp_path: Path
                         ) -> tuple[int, list[int]]:
    """`econsult up` as `scripts/run &` starts it (a non-interactive shell's background job
    inherits SIGINT ignored): its process id and its services', once they all serve."""
    log = tmp_path / "up.log"
    script = f"{shlex.quote(sys.executable)} -m cli.main up >{shlex.quote(str(log))} 2>&1 & echo $!"
    shell = subprocess.run(["bash", "-c", script], env={**os.environ, **own.to_env()},
                           capture_output=True, text=True, check=True, timeout=30)
    up = int(shell.stdout.split()[-1])
    keys = StreamKeys.for_prefix(own.redis_prefix)
    wait_for(lambda: (health(f"http://127.0.0.1:{own.ingest_port}") is not None
             and live_workers(redis_client, keys)) or not _alive(up), 120,
             "econsult up to start its services")
    assert _alive(up), log.read_text()[-3000:]
    return up, descendants(up)


def _alive(pid: int) -> bool:
    """Running: not ended, and not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill(pids: list[int]) -> None:
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
