"""``econsult dashboard`` on gunicorn: worker processes of its own, stopped whole by SIGTERM (as
``econsult up`` stops it) and by Ctrl-C (SIGINT to the terminal's process group)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli.up import FRONT_GRACE_S
from dashboard.server import GRACEFUL_S, WORKERS
from tests.support.http import status_of
from tests.support.processes import free_port, wait_for


def test_it_stops_well_inside_the_grace_econsult_up_gives():
    assert GRACEFUL_S + 2 < FRONT_GRACE_S


@pytest.mark.parametrize("stop", ["SIGTERM to the server", "Ctrl-C in its terminal"])
def test_a_stop_ends_the_server_and_its_workers_with_status_0(settings, stop):
    port = free_port()
    local = dataclasses.replace(settings, dashboard_port=port)
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "dashboard"],
                              env={**os.environ, **local.to_env()}, start_new_session=True)
    try:
        # One worker may answer before gunicorn has started the other.
        wait_for(lambda: (status_of(f"http://127.0.0.1:{port}/login") == 200
                 and len(_children(server.pid)) == WORKERS) or server.poll() is not None, 60,
                 f"the dashboard to start with its {WORKERS} workers")
        assert server.poll() is None, f"the dashboard exited with {server.returncode}"
        workers = _children(server.pid)
        if stop == "SIGTERM to the server":
            server.send_signal(signal.SIGTERM)
        else:
            os.killpg(server.pid, signal.SIGINT)  # the terminal signals its whole group
        assert server.wait(GRACEFUL_S + 5) == 0
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]
