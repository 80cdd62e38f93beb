"""Riding out an outage of Redis or PostgreSQL: which errors mean one, and waiting it out.

A restart of either, or a network blip, must never stop a service or lose what it holds: the
caller retries the same step, with back-off, and says in one line what it waits for.

A service that stops answering without closing its connections (frozen, or cut off by the
network) raises nothing by itself: Redis's clients time out (contracts/redis_connection.py), but
libpq has no timeout for a statement in flight, and PostgreSQL's own statement_timeout cannot
fire while it is frozen. A step that waits on PostgreSQL is therefore watched, and said every
``UNANSWERED_S`` while it waits.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import redis
from sqlalchemy.exc import InterfaceError, OperationalError

# BusyLoadingError (Redis still loading its data) is a ConnectionError too.
OUTAGES = (redis.ConnectionError, redis.TimeoutError, OperationalError, InterfaceError)
FIRST_WAIT_S = 0.5
LONGEST_WAIT_S = 2.0
UNANSWERED_S = 10.0
T = TypeVar("T")


class Stopped(Exception):
    """Asked to stop while waiting for a service to come back."""


def service_of(error: BaseException) -> str:
    return "Redis" if isinstance(error, redis.RedisError) else "PostgreSQL"


def first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


class Outage:
    """Retries a step while Redis or PostgreSQL is unreachable, telling ``say`` what it does."""

    def __init__(self, say: Callable[[str], object]) -> None:
        self._say = say
        self._since: float | None = None
        self._recovered = False
        self._unanswered = _Unanswered(say)

    def retry(self, step: Callable[[], T], stop: threading.Event | None = None,
              waits_on: str | None = None) -> T:
        """``step()``, again and again until no outage interrupts it; :class:`Stopped` if
        ``stop`` is set while waiting. ``waits_on`` names the service (PostgreSQL) a step may
        wait on without an error: while it does, that is said every ``UNANSWERED_S``."""
        wait = FIRST_WAIT_S
        while True:
            try:
                if waits_on is None:
                    result = step()
                else:
                    with self._unanswered.watching(waits_on):
                        result = step()
            except OUTAGES as exc:
                self._waiting(exc, wait)
                if stop.wait(wait) if stop is not None else time.sleep(wait):
                    raise Stopped from None
                wait = min(2 * wait, LONGEST_WAIT_S)
                continue
            if self._since is not None:
                self._say(f"the outage is over after {time.monotonic() - self._since:.0f} s; "
                          "carrying on")
                self._since, self._recovered = None, True
            return result

    def recovered(self) -> bool:
        """Did an outage end since the last call?"""
        recovered, self._recovered = self._recovered, False
        return recovered

    def _waiting(self, error: BaseException, wait: float) -> None:
        service = service_of(error)
        if self._since is None:
            self._since = time.monotonic()
            self._say(f"{service} is unreachable ({first_line(error)}); waiting for it, "
                      f"retrying with back-off")
        else:
            self._say(f"still waiting for {service} ({time.monotonic() - self._since:.0f} s so "
                      f"far: {first_line(error)}); next try in {wait:.1f} s")


class _Unanswered:
    """Says, from a thread of its own, that a watched step has waited ``UNANSWERED_S`` (and
    again every ``UNANSWERED_S``) for its service, and when the service answered at last."""

    def __init__(self, say: Callable[[str], object]) -> None:
        self._say = say
        self._service: str | None = None
        self._started = 0.0
        self._told = 0
        self._changed = threading.Condition()
        self._watcher: threading.Thread | None = None

    @contextlib.contextmanager
    def watching(self, service: str) -> Iterator[None]:
        with self._changed:
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, daemon=True,
                                                 name="unanswered")
                self._watcher.start()
            self._service, self._started, self._told = service, time.monotonic(), 0
            self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                if self._told:
                    self._say(f"{service} answered after {time.monotonic() - self._started:.0f} "
                              "s; carrying on")
                self._service = None

    def _watch(self) -> None:
        with self._changed:
            while True:
                if self._service is None:
                    self._changed.wait()
                    continue
                waited, due = time.monotonic() - self._started, UNANSWERED_S * (self._told + 1)
                if waited < due:
                    self._changed.wait(due - waited)
                    continue
                self._told += 1
                self._say(f"{self._service} has not answered for {waited:.0f} s (its "
                          "connection is open: frozen or cut off?); still waiting for it")
