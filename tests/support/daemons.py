"""A server a test starts itself (coturn, Janus): its output in a log of its own, ready once it
answers, stopped with the test (only the process it started)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.processes import wait_for


class Daemon:
    """Subclasses say how to start (``command``, ``environment``) and when it is ready
    (``answers``); ``start`` waits for that, or says why it did not come up."""

    name = "daemon"
    start_timeout_s = 10.0

    def __init__(self, log: Path) -> None:
        self.log = log
        self._process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def answers(self) -> bool:
        raise NotImplementedError

    def start(self) -> Daemon:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(self.command, env=self.environment(), stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: self.answers() or self._process.poll() is not None,
                     self.start_timeout_s, f"{self.name} to answer")
        except TimeoutError as late:
            self.stop()  # some keep running when they cannot listen: the log says why
            raise TimeoutError(f"{late}; {self.log} ends:\n{self.log_tail()}") from None
        if self._process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self._process.returncode}; "
                               f"{self.log} ends:\n{self.log_tail()}")
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
