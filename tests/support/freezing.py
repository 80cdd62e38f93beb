"""Freezing a server a test started itself (SIGSTOP, then SIGCONT), as a network partition or a
hung host freezes it: its connections stay open and nothing answers on them."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """Every process in ``pids`` stopped for as long as the block runs, and continued after it
    however the block ends."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
