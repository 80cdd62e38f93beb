"""Across NATs: a client whose browser may reach others only through the TURN relay (as behind
a strict NAT or firewall) still joins the call and is analysed, with the time-limited
credentials the room hands out (ingest/ice.py) and a coturn of the test's own; where a direct
path exists, it is taken."""

from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import expect

from tests.support.accounts import account_named, set_up
from tests.support.browsers import launcher
from tests.support.figures import record
from tests.support.ingest import running_ingest
from tests.support.processes import free_port
from tests.support.rooms import join_call, seconds_to_first_reading, signed_in
from tests.support.turn import OwnTurn

TIMEOUT_MS = 60_000
# Every peer connection the page makes may use relayed candidates only.
RELAY_ONLY = """
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Native {
  constructor(config = {}) { super({...config, iceTransportPolicy: "relay"}); }
};
"""
SELECTED_CANDIDATE = """async () => {
  const stats = await window.econsultConnections()[0].getStats();
  const transport = [...stats.values()].find((r) => r.type === "transport");
  const pair = stats.get(transport.selectedCandidatePairId);
  return stats.get(pair.localCandidateId).candidateType;
}"""


@pytest.fixture(scope="module")
def relayed(settings, worker, tmp_path_factory):
    """Ingest handing out credentials for a running coturn."""
    turn = OwnTurn(tmp_path_factory.mktemp("turn")).start()
    own = dataclasses.replace(settings, ingest_port=free_port(), turn_urls=turn.url,
                              turn_secret=turn.secret)
    with running_ingest(own) as url:
        yield own, url
    turn.stop()


@pytest.mark.parametrize("path", ["direct", "relay"])
def test_a_client_joins_and_is_analysed_directly_or_only_through_the_relay(relayed, camera_y4m,
                                                                         engine, path):
    """And how long from opening the invitation to the consultant's first live reading."""
    settings, url = relayed
    links = set_up(engine, settings, url)
    with launcher(camera_y4m) as launch:
        browser = launch()
        host_context = signed_in(browser, engine, account_named(engine, links.room.consultant),
                                 url)
        client_context = browser.new_context()
        if path == "relay":
            for context in (host_context, client_context):
                context.add_init_script(RELAY_ONLY)
        host, client = host_context.new_page(), client_context.new_page()
        host.goto(links.own)
        join_call(host)
        expect(host.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        first_reading = seconds_to_first_reading(host, client, links.guests, "Carla")
        client.wait_for_function("() => document.querySelector('#videos figure:nth-child(2) "
                                 "video')?.videoWidth > 0", timeout=TIMEOUT_MS)
        assert client.evaluate(SELECTED_CANDIDATE) == ("relay" if path == "relay" else "host")
    record(f"room-join-{path}", f"""
invitation opened → first live reading on the consultant's page (through Janus, {path}):
{first_reading:.1f} s
""")
