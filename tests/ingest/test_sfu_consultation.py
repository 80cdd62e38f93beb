"""A consultation through the SFU in real Chromium: consultant and client see each other in
full (the large simulcast layer), and the consenting client is analysed from what Janus relays
(how long that takes is measured in tests/ingest/test_relay.py)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.rooms import VIDEO_WIDTH, join_call, seconds_to_first_reading, signed_in

TIMEOUT_MS = 60_000
FULL_WIDTH = 640  # the camera's: the large simulcast layer


def test_a_consultation_through_the_sfu_shows_both_in_full_and_reads_the_client(
        settings, ingest_url, camera_y4m, engine):
    url = ingest_url
    consultant = account(engine)
    links = set_up(engine, settings, url, "consultation", consultant)
    with launcher(camera_y4m) as launch:
        browser = launch()
        host = signed_in(browser, engine, consultant, url).new_page()
        host.goto(links.own)
        join_call(host)
        expect(host.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        client = browser.new_context().new_page()
        seconds_to_first_reading(host, client, links.guests, "Carla")
        # The sender's browser adds the full layer once its bandwidth estimate allows, and
        # Janus switches at that layer's next key frame: until then the small one is shown.
        host.wait_for_function(f"() => ({VIDEO_WIDTH})('Carla') === {FULL_WIDTH}",
                               timeout=TIMEOUT_MS)
        client.wait_for_function(
            f"() => ({VIDEO_WIDTH})({consultant.username!r}) === {FULL_WIDTH}",
            timeout=TIMEOUT_MS)
