"""Fault tests: each starts what it breaks (streams under a prefix of its own, workers of its
own, and where a service must fail, a Redis or a PostgreSQL of its own)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from contracts.settings import Settings


@pytest.fixture
def own_streams(settings: Settings) -> Settings:
    """Settings whose streams no other test's worker reads."""
    return dataclasses.replace(settings,
                               redis_prefix=f"{settings.redis_prefix}-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def dead_letters(redis_client) -> Iterator:
    """Reads a prefix's dead-letter stream."""
    from contracts.stream import StreamKeys

    def read(settings: Settings) -> list[dict[bytes, bytes]]:
        keys = StreamKeys.for_prefix(settings.redis_prefix)
        return [fields for _, fields in redis_client.xrange(keys.dead_letter)]

    yield read
