"""Entries that wait for what they name (a session or participant not recorded yet, a consent
on its way): kept here, retried with every batch, and given up after ``wait_s``.

The wait must outlast a takeover (``StreamConsumer.takeover_s``): the entry it waits for may be
held by a worker that died. Time while Redis or PostgreSQL was unreachable does not count.
"""

from __future__ import annotations

import time

from worker.consumer import Entry


class WaitingRoom:
    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self._since: dict[bytes, tuple[Entry, float]] = {}

    def __bool__(self) -> bool:
        return bool(self._since)

    def entries(self, stream: str | None = None) -> list[Entry]:
        return [entry for entry, _ in self._since.values()
                if stream is None or entry.stream == stream]

    def waited_out(self, entry: Entry) -> bool:
        """Has the entry waited its time? Its wait starts now if it was not waiting yet."""
        now = time.monotonic()
        _, since = self._since.setdefault(entry.id, (entry, now))
        return now - since > self.wait_s

    def leave(self, entry: Entry) -> None:
        self._since.pop(entry.id, None)

    def restart_clocks(self) -> None:
        now = time.monotonic()
        self._since = {key: (entry, now) for key, (entry, _) in self._since.items()}
