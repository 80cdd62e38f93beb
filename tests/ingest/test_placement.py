"""Scale-out: two ingests, each with a Janus of its own, behind one proxy. New rooms are placed
on the ingest holding the fewest (its Janus carries their calls); whichever ingest answers a
room's admission, everyone in that room is sent to the one that holds it, unless that one has
stopped."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from contracts.settings import Settings
from contracts.stream import StreamKeys
from tests.support.accounts import set_up, token
from tests.support.ingest import running_ingest
from tests.support.janus import OwnJanus
from tests.support.participants import StreamingParticipant
from tests.support.processes import free_port, health, wait_for
from tests.support.proxy import OwnCaddy
from tests.support.records import participant_named, samples_of

ROOMS = 4
# Ingest a and b behind one origin: the rooms' pages and admissions go to either, /ingest/a/*
# and /ingest/b/* to that one (README, Adding a host).
CADDYFILE = """{{
	admin off
	auto_https off
}}
http://127.0.0.1:{port} {{
	handle_path /ingest/a/* {{
		reverse_proxy {a}
	}}
	handle_path /ingest/b/* {{
		reverse_proxy {b}
	}}
	handle {{
		reverse_proxy {a} {b}
	}}
}}
"""


@dataclasses.dataclass
class Host:
    janus: OwnJanus
    ingest: str  # its URL, behind the proxy's back


@pytest.fixture(scope="module")
def hosts(settings: Settings, tmp_path_factory
          ) -> Iterator[tuple[str, Settings, dict[str, Host]]]:
    """The proxy's URL, the settings rooms are set up with, and each host by its address."""
    janus = OwnJanus(tmp_path_factory.mktemp("janus-a")).start()
    other = OwnJanus(tmp_path_factory.mktemp("janus-b")).start()
    # Streams and placements of their own: the run's other ingests are no hosts of these.
    shared = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-placement")
    try:
        with running_ingest(_host(shared, "a", janus)) as a, \
                running_ingest(_host(shared, "b", other)) as b:
            port = free_port()
            proxy = OwnCaddy(tmp_path_factory.mktemp("proxy"), CADDYFILE.format(
                port=port, a=a.removeprefix("http://"), b=b.removeprefix("http://")),
                f"http://127.0.0.1:{port}").start()
            try:
                yield proxy.url, shared, {"/ingest/a": Host(janus, a), "/ingest/b": Host(other, b)}
            finally:
                proxy.stop()
    finally:
        janus.stop()
        other.stop()


def _host(settings: Settings, name: str, janus: OwnJanus) -> Settings:
    return dataclasses.replace(settings, ingest_port=free_port(), ingest_address=f"/ingest/{name}",
                               janus_url=janus.url, janus_admin_key=janus.admin_key)


def test_rooms_are_placed_on_both_hosts_and_everyone_in_a_room_meets_on_one(hosts, engine,
                                                                            worker_factory):
    url, settings, by_address = hosts
    worker_factory(redis_prefix=settings.redis_prefix)
    rooms = [set_up(engine, settings, url, name=f"placed-{i}-{uuid.uuid4().hex[:4]}")
             for i in range(ROOMS)]
    people = []
    try:
        for links in rooms:  # one after another: each placement sees the ones before
            people.append(StreamingParticipant(url, links, "Olga"))
            wait_for(lambda links=links: links.room.name in _rooms_on(by_address), 30,
                     f"room {links.room.name} to open on a Janus")
        placed = {address: host.janus.rooms() for address, host in by_address.items()}
        # A second person in the first room, admitted by whichever ingest: the same Janus room.
        people.append(StreamingParticipant(url, rooms[0], "Pia"))
        for links, name in [(links, "Olga") for links in rooms] + [(rooms[0], "Pia")]:
            joined = participant_named(engine, links.room.name, name)
            wait_for(lambda joined=joined: len(samples_of(engine, joined.id)) >= 3, 60,
                     f"{name}'s frames in {links.room.name}")
        assert {address: host.janus.rooms() for address, host in by_address.items()} == placed
        counts = {address: health(host.ingest)["rooms"] for address, host in by_address.items()}
    finally:
        for person in people:
            person.leave()
    assert [len(names) for names in placed.values()] == [ROOMS // 2, ROOMS // 2], placed
    assert sorted(n for names in placed.values() for n in names) == sorted(
        links.room.name for links in rooms)
    assert counts == {address: ROOMS // 2 for address in by_address}


def _rooms_on(by_address: dict[str, Host]) -> list[str]:
    return [name for host in by_address.values() for name in host.janus.rooms()]


def test_a_room_placed_on_an_ingest_that_stopped_is_placed_again(hosts, engine, redis_client):
    url, settings, by_address = hosts
    links = set_up(engine, settings, url)
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    redis_client.set(keys.placement(links.room.name), "/ingest/gone", ex=300)
    request = urllib.request.Request(
        f"{url}/room/{links.room.name}/admission", method="POST",
        data=json.dumps({"invitation": token(links.guests)}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        socket = json.load(response)["socket"]
    assert socket.removesuffix(f"/room/{links.room.name}/ws") in by_address
