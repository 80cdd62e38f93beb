"""A consultation set up for each test, with links into the test run's ingest."""

from __future__ import annotations

import pytest

from bench.rooms import set_up
from contracts.invitations import RoomLinks


@pytest.fixture
def room(engine, settings, ingest_url) -> RoomLinks:
    return set_up(engine, settings, ingest_url)
