"""A consultation in real Chromium through a Janus and an ingest of the test's own, for tests that
break the call's SFU: Dr Bob's page and the page of Carla, who agreed to face analysis, both
connected (each publishing and watching the other), and Carla's first frames stored."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import Engine

from contracts.invitations import RoomLinks
from contracts.settings import Settings
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.ingest import running_ingest
from tests.support.janus import OwnJanus
from tests.support.processes import free_port, wait_for
from tests.support.records import participant_named, samples_of
from tests.support.rooms import CONNECTED, join_call, named, signed_in

TIMEOUT_MS = 90_000


@dataclass
class Call:
    janus: OwnJanus
    links: RoomLinks
    consultant: str  # Dr Bob's name, as the pages show it
    host: Page  # Dr Bob's
    client: Page  # Carla's
    carla: uuid.UUID


@contextlib.contextmanager
def consultation(settings: Settings, engine: Engine, camera: Path,
                 folder: Path) -> Iterator[Call]:
    """The call, until the block ends; Janus's files go in ``folder``."""
    janus = OwnJanus(folder).start()
    own = dataclasses.replace(settings, ingest_port=free_port(), janus_url=janus.url,
                              janus_admin_key=janus.admin_key)
    bob = account(engine, username=f"Dr Bob {uuid.uuid4().hex[:4]}")
    try:
        with running_ingest(own) as url, launcher(camera) as launch:
            links = set_up(engine, own, url, consultant=bob)
            host = signed_in(launch(), engine, bob, url).new_page()
            host.goto(links.own)
            join_call(host)
            client = launch().new_page()
            client.goto(named(links.guests, "Carla"))
            join_call(client, "face")
            carla = participant_named(engine, links.room.name, "Carla").id
            for page in (host, client):
                page.wait_for_function(CONNECTED, arg=2, timeout=TIMEOUT_MS)
            wait_for(lambda: len(samples_of(engine, carla)) >= 3, 60, "Carla's first frames")
            yield Call(janus, links, bob.username, host, client, carla)
    finally:
        janus.stop()
