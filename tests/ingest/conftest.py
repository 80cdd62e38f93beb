"""A consultation set up for each test, with links into the test run's ingest; an ingest whose
calls go through a Janus of the tests' own."""

from __future__ import annotations

import dataclasses

import pytest

from bench.processes import free_port
from bench.rooms import set_up
from contracts.invitations import RoomLinks
from tests.support.ingest import running_ingest
from tests.support.janus import OwnJanus


@pytest.fixture
def room(engine, settings, ingest_url) -> RoomLinks:
    return set_up(engine, settings, ingest_url)


@pytest.fixture(scope="session")
def sfu_ingest(settings, worker, tmp_path_factory):
    """Ingest whose calls go through a Janus of the test's own."""
    janus = OwnJanus(tmp_path_factory.mktemp("janus")).start()
    own = dataclasses.replace(settings, ingest_port=free_port(), janus_url=janus.url,
                              janus_admin_key=janus.admin_key)
    with running_ingest(own) as url:
        yield own, url
    janus.stop()
