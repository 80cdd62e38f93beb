"""A child process starts whatever the threads of the process starting it are doing, and ends
when that process dies, however it dies (`econsult up` killed outright: tests/cli/test_up.py).
Without the tool that ties them (util-linux's setpriv), it says what to install."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from cli import CommandError, children
from tests.support.processes import wait_for

STARTED_WITHIN_S = 30

# A thread holds a lock that one of its thread-locals needs to end (in the test run, a PyAV
# video scaler's end waited so). Any Python code run between fork and exec first frees the
# other threads' locals, in a child where the holder no longer runs: the child then waits for
# that lock forever.
_STARTER = textwrap.dedent("""
    import sys, threading
    from cli import children

    held, local = threading.Lock(), threading.local()
    holding, release = threading.Event(), threading.Event()

    class NeedsTheLock:
        def __del__(self):
            with held:
                pass

    def holder():
        local.value = NeedsTheLock()
        with held:
            holding.set()
            release.wait()

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait()
    child = children.start([sys.executable, "-c", "print('started')"])
    code = child.wait()
    release.set()
    thread.join()
    sys.exit(code)
""")


def test_a_child_starts_while_another_thread_holds_a_lock():
    # In a group of its own, so that a child stuck before exec goes with it.
    starter = subprocess.Popen([sys.executable, "-c", _STARTER], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, process_group=0)
    try:
        out, err = starter.communicate(timeout=STARTED_WITHIN_S)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the group has ended, as it should
            os.killpg(starter.pid, signal.SIGKILL)
        starter.wait()
    assert starter.returncode == 0, err
    assert out == "started\n"


def test_a_child_whose_parent_dies_is_sent_sigterm():
    starter = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from cli import children; "
         "print(children.start([sys.executable, '-c', 'import time; time.sleep(600)']).pid, "
         "flush=True); time.sleep(600)"], stdout=subprocess.PIPE, text=True)
    child = int(starter.stdout.readline())
    try:
        starter.kill()
        starter.wait()
        wait_for(lambda: not _alive(child), STARTED_WITHIN_S, "the orphan to end")
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_without_setpriv_it_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="install util-linux"):
        children.start([sys.executable, "-c", "pass"])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
