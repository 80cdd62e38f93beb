"""Connections to Redis, shared by every service and command.

A Redis that stops answering without closing its connections (frozen, or cut off by the
network) must be an outage like any other (contracts/outage.py), said and waited out, never a
wait without end: every reply is awaited at most ``SOCKET_TIMEOUT_S``. No client retries on its
own, so the first timeout reaches the caller's outage handling and is said at once.
"""

from __future__ import annotations

import redis
import redis.asyncio as aredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

# Above the longest blocking read econsult makes (a worker's XREADGROUP waits up to
# ECONSULT_WORKER_BLOCK_MS, 1 s by default), well under the ~15 s a process may wait unsaid.
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S,
                                socket_connect_timeout=CONNECT_TIMEOUT_S,
                                socket_keepalive=True, retry=Retry(NoBackoff(), 0))


def connect_async(url: str) -> aredis.Redis:
    return aredis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S,
                                 socket_connect_timeout=CONNECT_TIMEOUT_S,
                                 socket_keepalive=True, retry=AsyncRetry(NoBackoff(), 0))
