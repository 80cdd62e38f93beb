"""Real ``econsult`` processes for tests and the benchmark, awaited until they are ready (a
worker's heartbeat in Redis, ingest's /healthz, Janus's API)."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import redis

from cli import children
from contracts.settings import Settings
from contracts.stream import StreamKeys, live_workers
from ingest.janus import API_ORIGIN

READY_TIMEOUT_S = 90.0


@dataclass
class EconsultProcess:
    name: str
    process: subprocess.Popen

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


def econsult(settings: Settings, *args: str, log: Path | None = None) -> subprocess.Popen:
    """``econsult ARGS`` as a child process, ended if this one dies (a test run killed leaves
    nothing running); its output goes to ``log`` when given."""
    output = log.open("ab") if log else None
    try:
        return children.start([sys.executable, "-m", "cli.main", *args],
                              env={**os.environ, **settings.to_env()}, stdout=output,
                              stderr=subprocess.STDOUT if output else None)
    finally:
        if output:
            output.close()


def start_worker(settings: Settings, name: str) -> EconsultProcess:
    """Start ``econsult worker`` and return once its heartbeat says it is reading."""
    worker = EconsultProcess(name, econsult(settings, "worker", "--name", name))
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    client = redis.Redis.from_url(settings.redis_url)
    try:
        wait_for(lambda: name in live_workers(client, keys) or worker.process.poll() is not None,
                 READY_TIMEOUT_S, f"worker {name} to start reading")
    except TimeoutError:
        worker.kill()
        raise
    finally:
        client.close()
    if worker.process.poll() is not None:
        raise RuntimeError(f"worker {name} exited with code {worker.process.returncode}")
    return worker


def wait_for(condition: object, timeout_s: float, what: str, poll_s: float = 0.05) -> None:
    """Poll ``condition`` until it is true; fail after ``timeout_s`` saying what was awaited."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health(url: str, cafile: str | None = None) -> dict | None:
    """An ingest server's /healthz answer, or None while it does not answer; over HTTPS, its
    certificate is checked against ``cafile`` (the system's trust store when not given)."""
    context = ssl.create_default_context(cafile=cafile) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2, context=context) as response:
            return json.load(response)
    except OSError:
        return None


def analysis_peers(url: str, cafile: str | None = None) -> int | None:
    """How many participants an ingest server analyses now, or None while it does not answer
    (a busy server can miss /healthz's timeout: a condition polling this then polls again)."""
    answer = health(url, cafile)
    return None if answer is None else answer["analysis_peers"]


def janus_answers(url: str) -> bool:
    """Whether the Janus API at ``url`` answers (its /info)."""
    request = urllib.request.Request(f"{url}/info", headers={"Origin": API_ORIGIN})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    """The processes under ``pid`` (children, theirs, and so on), parents first. Read from
    every process's parent, since /proc/PID/task/TID/children lists only what the thread TID
    started (Chromium starts its children from other threads)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], list(children.get(pid, []))
    while queue:
        found.append(child := queue.pop(0))
        queue += children.get(child, [])
    return found
