"""A Redis and a PostgreSQL of a test's own, on ports of their own, that the test may stop,
kill and restart: fault tests never touch the machine's shared services."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import redis

from tests.support.processes import descendants, free_port, wait_for


class OwnRedis:
    """``redis-server`` as econsult runs it: nothing kept on disk."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._folder = folder
        self._process: subprocess.Popen | None = None

    def start(self) -> OwnRedis:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self._folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 10, f"Redis on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop it (as a restart or a crash would: it keeps nothing)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def _answers(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False


class OwnPostgres:
    """A PostgreSQL cluster made with Debian's ``pg_createcluster``, trusting local users."""

    def __init__(self) -> None:
        self.version = sorted(Path("/etc/postgresql").iterdir())[-1].name
        self.name = f"econsult-fault-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/econsult"
        _run("pg_createcluster", self.version, self.name, "-p", str(self.port), "--",
             "--auth=trust")

    def start(self) -> OwnPostgres:
        self._ctl("start")
        return self

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def drop(self) -> None:
        _run("pg_dropcluster", "--stop", self.version, self.name)

    def pids(self) -> list[int]:
        """The running cluster's processes: the postmaster, then its backends and helpers."""
        data = Path("/var/lib/postgresql") / self.version / self.name
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *descendants(postmaster)]

    def _ctl(self, *action: str) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, *action)


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)
