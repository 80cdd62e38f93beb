"""A consultation set up for each test, with links into the test run's ingest."""

from __future__ import annotations

import pytest

from contracts.invitations import RoomLinks
from tests.support.accounts import set_up


@pytest.fixture
def room(engine, settings, ingest_url) -> RoomLinks:
    return set_up(engine, settings, ingest_url)
