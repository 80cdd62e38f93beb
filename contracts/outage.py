"""Riding out an outage of Redis or PostgreSQL: which errors mean one, and waiting it out.

A restart of either, or a network blip, must never stop a service or lose what it holds: the
caller retries the same step, with back-off, and says in one line what it waits for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from sqlalchemy.exc import InterfaceError, OperationalError

# BusyLoadingError (Redis still loading its data) is a ConnectionError too.
OUTAGES = (redis.ConnectionError, redis.TimeoutError, OperationalError, InterfaceError)
FIRST_WAIT_S = 0.5
LONGEST_WAIT_S = 2.0
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

    def retry(self, step: Callable[[], T], stop: threading.Event | None = None) -> T:
        """``step()``, again and again until no outage interrupts it; :class:`Stopped` if
        ``stop`` is set while waiting."""
        wait = FIRST_WAIT_S
        while True:
            try:
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
