"""A class through the SFU in real Chromium, over HTTPS on this machine's own address: a teacher
and five students each publish once; the teacher's gallery shows the small layer of each student
whose thumbnail is on screen, and only theirs, a chosen student large, and each student sees the
teacher; the consenting students are analysed from what Janus relays, the declining one never,
and a withdrawal ends ingest's subscription."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from contracts.labels import EMOTIONS
from ingest.layers import SMALL, TEMPORAL_LAYERS, temporal_layer_for
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.figures import record
from tests.support.processes import analysis_peers, wait_for
from tests.support.records import ingest_count, participant_named, samples_of
from tests.support.rooms import (
    THUMBNAILS_ON_SCREEN,
    VIDEO_WIDTH,
    join_call,
    named,
    signed_in,
)
from tests.support.tls import serving_https

TIMEOUT_MS = 60_000
# Notes in window.withdrawnAt when the teacher's page first says a student is not analysed.
WATCH_FOR_WITHDRAWAL = """name => {
  const tile = [...document.querySelectorAll('#participants .tile')]
    .find((t) => t.querySelector('figcaption').textContent.includes(name));
  const reading = tile.querySelector('.dominant');
  new MutationObserver(() => {
    if (reading.textContent.includes('no consent')) window.withdrawnAt ??= Date.now();
  }).observe(reading, {childList: true, characterData: true, subtree: true});
}"""
# The students whose thumbnail is playing their video, and how many videos the page receives.
PLAYING = """() => [[...document.querySelectorAll('#participants .tile:not(#self)')]
  .filter((tile) => tile.querySelector('video').srcObject)
  .map((tile) => tile.querySelector('figcaption').textContent.split(' (')[0]),
  window.econsultConnections().length - 1]"""
# Frames a page has sent of a simulcast layer (by its rid), and the layer's scalability mode.
SMALL_LAYER_SENT = """async rid => {
  for (const pc of window.econsultConnections())
    for (const s of (await pc.getStats()).values())
      if (s.type === 'outbound-rtp' && s.rid === rid) return [s.framesSent, s.scalabilityMode];
}"""
STUDENTS = ["Ana", "Ben", "Cy", "Di", "Ed"]
DECLINES = "Ed"


@pytest.fixture(scope="module")
def https_ingest(settings, worker, tmp_path_factory):
    """Another ingest on the same Janus, serving HTTPS as a deployment does."""
    with serving_https(settings, tmp_path_factory.mktemp("tls")) as served:
        yield served


@pytest.fixture(scope="module")
def lesson(https_ingest, camera_y4m, engine):
    settings, url, cafile = https_ingest
    teacher = account(engine, username=f"Ms Lee {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, url, "class", teacher)
    with launcher(camera_y4m) as launch:
        browser = launch()  # one fake camera for all: pages of one browser share it
        host = signed_in(browser, engine, teacher, url, ignore_https_errors=True).new_page()
        host.goto(links.own)
        join_call(host)
        expect(host.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        students = {}
        for name in STUDENTS:
            page = students[name] = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(named(links.guests, name))
            join_call(page, *(() if name == DECLINES else ("face",)))
            expect(page.locator("#status")).to_contain_text("In the call", timeout=TIMEOUT_MS)
        yield links, host, students, (url, cafile)


def test_the_teacher_sees_every_students_small_layer_and_students_see_the_teacher(lesson):
    links, host, students, _ = lesson
    for name in STUDENTS:
        host.wait_for_function(f"() => ({VIDEO_WIDTH})({name!r}) > 0", timeout=TIMEOUT_MS)
    widths = {name: host.evaluate(f"({VIDEO_WIDTH})({name!r})") for name in STUDENTS}
    teacher = links.room.consultant
    for page in students.values():
        page.wait_for_function(f"() => ({VIDEO_WIDTH})({teacher!r}) > 0", timeout=TIMEOUT_MS)
    seen = students["Ana"].evaluate(f"({VIDEO_WIDTH})({teacher!r})")
    assert set(widths.values()) == {320} and seen == 640


def _watched_are_those_on_screen(host) -> list[str]:
    """Wait until the teacher's page receives the video of exactly the students on screen, each
    playing in their thumbnail; their names."""
    def settled() -> bool:
        on_screen = sorted(host.evaluate(THUMBNAILS_ON_SCREEN))
        playing, receiving = host.evaluate(PLAYING)
        plays = all(host.evaluate(f"({VIDEO_WIDTH})({name!r})") == 320 for name in on_screen)
        return sorted(playing) == on_screen and receiving == len(on_screen) and plays

    wait_for(settled, 60, "the teacher's page to watch exactly the students on screen")
    return sorted(host.evaluate(THUMBNAILS_ON_SCREEN))


def test_the_teachers_gallery_receives_only_the_students_on_screen(lesson):
    _, host, _, (url, cafile) = lesson
    laptop = host.viewport_size
    # A screen so short that one row of the class shows: the others are scrolled away.
    host.set_viewport_size({"width": 1024, "height": 480})
    try:
        first = _watched_are_those_on_screen(host)
        host.locator("#participants").evaluate("g => { g.scrollTop = g.scrollHeight; }")
        last = _watched_are_those_on_screen(host)
    finally:
        host.set_viewport_size(laptop)
        host.locator("#participants").evaluate("g => { g.scrollTop = 0; }")
    assert 0 < len(first) < len(STUDENTS) and last and not set(first) & set(last)
    # What the teacher watches is not what is analysed: every consenting student still is.
    assert analysis_peers(url, cafile) == len(STUDENTS) - 1


def test_a_student_the_teacher_chooses_is_shown_large_on_the_stage(lesson):
    _, host, _, _ = lesson
    ana = host.locator("#participants .tile", has=host.locator("figcaption", has_text="Ana"))
    expect(ana.locator("video")).to_have_js_property("videoWidth", 320, timeout=TIMEOUT_MS)
    ana.locator("video").click()
    expect(host.locator("#stage")).to_be_visible()
    expect(host.locator("#stage figcaption")).to_have_text("Ana")
    # At the large layer, received once: her thumbnail waits while she is on the stage.
    expect(host.locator("#stage-video")).to_have_js_property("videoWidth", 640,
                                                             timeout=TIMEOUT_MS)
    assert ana.locator("video").evaluate("v => v.srcObject") is None
    host.locator("#stage-video").click()
    expect(host.locator("#stage")).to_be_hidden()
    expect(ana.locator("video")).to_have_js_property("videoWidth", 320, timeout=TIMEOUT_MS)


def test_each_browser_uploads_its_camera_once(lesson):
    _, _, students, _ = lesson
    senders = students["Ana"].evaluate("""() => window.econsultConnections().flatMap(pc =>
        pc.getSenders().filter(s => s.track && s.track.kind === 'video'))
        .map(s => s.getParameters().encodings.length)""")
    assert senders == [2]  # one publication, in two layers: no second stream for analysis


def test_ingest_is_relayed_only_the_temporal_layers_its_sampling_needs(lesson, settings):
    """Each browser codes its small layer in temporal layers (ingest/layers.py); Janus relays
    ingest the lower ones only: half the frames, still more than it samples."""
    _, _, students, (url, cafile) = lesson
    consenting = [students[name] for name in STUDENTS if name != DECLINES]
    wait_for(lambda: analysis_peers(url, cafile) == len(consenting), 60,
             "ingest to subscribe to each consenting student")

    def counted() -> tuple[int, float]:
        sent = [page.evaluate(SMALL_LAYER_SENT, SMALL["rid"]) for page in consenting]
        assert all(mode == SMALL["scalabilityMode"] for _, mode in sent)
        return sum(frames for frames, _ in sent), ingest_count(url, "frames_received", cafile)

    sent, received = counted()
    wait_for(lambda: ingest_count(url, "frames_received", cafile) >= received + 100, 60,
             "ingest to receive 100 frames more")
    sent_then, received_then = counted()
    relayed = (received_then - received) / (sent_then - sent)
    expected = 2 ** (temporal_layer_for(settings.sample_fps) - (TEMPORAL_LAYERS - 1))
    assert expected - 0.1 <= relayed <= expected + 0.1


def test_only_consenting_students_are_analysed_from_the_sfu(lesson, engine):
    links, _, _, (url, cafile) = lesson
    wait_for(lambda: analysis_peers(url, cafile) == len(STUDENTS) - 1, 60,
             "ingest to subscribe to each consenting student")
    for name in STUDENTS:
        if name != DECLINES:
            person = participant_named(engine, links.room.name, name)
            wait_for(lambda person=person: len(samples_of(engine, person.id)) > 0, 90,
                     f"{name}'s analysed frames")
    assert samples_of(engine, participant_named(engine, links.room.name, DECLINES).id) == []


def test_the_teachers_gallery_shows_each_students_reading_in_their_thumbnail(lesson):
    _, host, _, _ = lesson
    for name in STUDENTS:
        tile = host.locator("#participants .tile", has=host.locator("figcaption", has_text=name))
        reading = ("face not analysed (no consent)" if name == DECLINES
                   else re.compile("|".join(EMOTIONS)))
        expect(tile.locator(".participant .dominant")).to_have_text(reading, timeout=TIMEOUT_MS)
        # The tile is the student's figure, holding their own card and a thumbnail.
        ids, width = tile.evaluate("t => [[t.id, t.querySelector('.participant').id],"
                                   " t.querySelector('video').clientWidth]")
        assert ids[1] == ids[0].replace("peer-", "live-") and 0 < width <= 320
    own = host.evaluate("document.querySelector('#self video').clientWidth")
    assert own <= 320  # the teacher's own preview is a thumbnail too


def test_the_teachers_gallery_scrolls_instead_of_lengthening_the_page(lesson):
    _, host, _, _ = lesson
    expect(host.locator("#participants .tile")).to_have_count(len(STUDENTS) + 1)
    laptop = host.viewport_size
    # A screen so short that five students overflow it, as fifty would a laptop's.
    host.set_viewport_size({"width": 1024, "height": 480})
    try:
        shown, held, screen = host.locator("#participants").evaluate(
            "g => [g.clientHeight, g.scrollHeight, innerHeight]")
        host.locator("#participants .tile").last.scroll_into_view_if_needed()
        scrolled = host.locator("#participants").evaluate("g => g.scrollTop")
    finally:
        host.set_viewport_size(laptop)
    assert shown < screen and shown < held and scrolled > 0


def test_a_student_sees_the_teacher_large_and_themselves_small(lesson):
    links, _, students, _ = lesson
    teacher = students["Ana"].locator("#participants .tile",
                                      has_text=links.room.consultant).locator("video")
    large = teacher.evaluate("v => v.clientWidth")
    small = students["Ana"].evaluate("document.querySelector('#self video').clientWidth")
    assert large > 320 and large >= 2 * small


def test_withdrawing_consent_ends_the_analysis_subscription(lesson):
    """And how long it takes: the room tells the teacher of a withdrawal only once ingest has
    ended the subscription, so the teacher's card changing marks the end (both pages share
    one clock)."""
    _, host, students, (url, cafile) = lesson
    before = analysis_peers(url, cafile)
    host.evaluate(WATCH_FOR_WITHDRAWAL, "Ana")
    clicked = students["Ana"].evaluate(
        "() => { const at = Date.now(); document.getElementById('toggle-face').click();"
        " return at; }")
    told = host.wait_for_function("() => window.withdrawnAt", timeout=TIMEOUT_MS).json_value()
    assert analysis_peers(url, cafile) == before - 1
    expect(students["Ana"].locator("#status")).to_contain_text("face analysis is off")
    record("withdrawal-sfu", f"""
a student's click on "Stop face analysis" → ingest's subscription to her video ended and
her teacher's page says so (through Janus, a class of 5, over HTTPS): {told - clicked} ms
""")
