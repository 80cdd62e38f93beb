"""The benchmark's ``econsult`` services, each logging to a file of its own, and the settings
that give a benchmark a Janus of its own."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from contracts.settings import Settings
from tests.support.processes import (
    READY_TIMEOUT_S,
    EconsultProcess,
    descendants,
    econsult,
    free_port,
    health,
    janus_answers,
    start_worker,
    wait_for,
)


class Services:
    """The ``econsult`` services of a benchmark, each logging to a file of its own in a
    temporary ``folder``; on leaving, they stop in the reverse order of their start (workers,
    then ingest, which ends its rooms on Janus, then Janus) and the folder goes."""

    def __init__(self, prefix: str) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix=prefix)
        self.folder = Path(self._folder.name)
        self.started: list[EconsultProcess] = []

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for service in reversed(self.started):
            service.stop()
        self._folder.cleanup()

    def start(self, settings: Settings, command: str, ready: Callable[[], bool]
              ) -> EconsultProcess:
        """``econsult COMMAND``, once ``ready`` says so; if it exits first, the error quotes
        the end of its log."""
        log = self.folder / f"{command}-{len(self.started)}.log"
        self.started.append(service := EconsultProcess(command, econsult(settings, command,
                                                                          log=log)))
        wait_for(lambda: ready() or service.process.poll() is not None, READY_TIMEOUT_S,
                 f"econsult {command} to start")
        if service.process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"econsult {command} exited with code "
                               f"{service.process.returncode}:\n{tail}")
        return service

    def janus(self, settings: Settings) -> int:
        """``econsult janus`` at ``settings.janus_url``; the process id of Janus itself."""
        service = self.start(settings, "janus", lambda: janus_answers(settings.janus_url))
        # econsult janus runs deploy/janus/run, which becomes Janus.
        children = descendants(service.process.pid)
        if not children:
            raise RuntimeError("econsult janus answers but has started no janus process")
        return children[0]

    def ingest(self, settings: Settings) -> tuple[str, int]:
        """``econsult ingest`` on ``settings.ingest_port``: its URL and process id."""
        url = f"http://127.0.0.1:{settings.ingest_port}"
        service = self.start(settings, "ingest", lambda: health(url) is not None)
        return url, service.process.pid

    def worker(self, settings: Settings, name: str) -> int:
        """``econsult worker`` (see :func:`start_worker`): its process id."""
        self.started.append(worker := start_worker(settings, name))
        return worker.process.pid


def own_janus(settings: Settings) -> Settings:
    """``settings`` with a Janus of their own: its API on a free port, a new admin key."""
    return replace(settings, janus_url=f"http://127.0.0.1:{free_port()}/janus",
                   janus_admin_key=secrets.token_hex(32))
