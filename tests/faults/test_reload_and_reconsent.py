"""Nothing analysed is lost or skipped: a client who reloads the room page mid-call, then
withdraws and allows analysis again, stays one participant, and every frame of each of her
three captures is stored (none of one taken for a repeat of another). What the consultant sees
live is what is stored; a reload after the session ended starts no session: the ended room is
closed, and her invitation opens nothing any more."""

from __future__ import annotations

import re
import uuid
from itertools import groupby

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from contracts.schema import Participant, Room, Sample, Session
from tests.support.accounts import account, set_up
from tests.support.browsers import launcher
from tests.support.figures import record
from tests.support.processes import analysis_peers, wait_for
from tests.support.records import participant_named, samples_of
from tests.support.rooms import COUNT_CAMERA_REQUESTS, join_call, named, signed_in
from tests.support.streams import wait_until_all_consumed

TIMEOUT_MS = 60_000
DIGITS = re.compile(r"^\d+$")


def test_reloads_and_re_consent_lose_no_frame_and_a_reload_after_the_end_starts_nothing(
        ingest_url, camera_y4m, engine, redis_client, settings):
    bob = account(engine, username=f"Dr Bob {uuid.uuid4().hex[:4]}")
    links = set_up(engine, settings, ingest_url, consultant=bob)
    room = links.room.name
    with launcher(camera_y4m) as launch:
        consultant = signed_in(launch(), engine, bob, ingest_url).new_page()
        consultant.goto(links.own)
        join_call(consultant)
        rosa = launch().new_page()
        rosa.goto(named(links.guests, "Rosa"))
        _agree(rosa)
        rosa_id = participant_named(engine, room, "Rosa").id
        wait_for(lambda: [len(seqs) >= 4 for seqs in _captures(engine, rosa_id).values()] == [
            True], 90, "Rosa's first frames")

        rosa.reload()
        _agree(rosa)
        wait_for(lambda: len(_captures(engine, rosa_id)) == 2, 90, "frames after the reload")

        rosa.click("#toggle-face")
        expect(rosa.locator("#status")).to_contain_text("face analysis is off",
                                                        timeout=TIMEOUT_MS)
        wait_for(lambda: analysis_peers(ingest_url) == 0, 30, "analysis to stop")
        rosa.click("#toggle-face")
        expect(rosa.locator("#status")).to_contain_text("face analysis is on", timeout=TIMEOUT_MS)
        wait_for(lambda: len(_captures(engine, rosa_id)) == 3, 90, "frames after re-consent")

        card = consultant.locator("#participants .participant", has_text="Rosa")
        expect(card).to_have_attribute("data-captured", DIGITS, timeout=TIMEOUT_MS)
        shown = int(card.get_attribute("data-captured"))

        consultant.click("#end")
        expect(rosa.locator("#ended")).to_be_visible(timeout=TIMEOUT_MS)
        wait_for(lambda: _closed(engine, links.room.id), 30, "the ended room to be closed")
        rosa.add_init_script(COUNT_CAMERA_REQUESTS)
        rosa.reload()
        expect(rosa.locator("#refusal")).to_contain_text("has ended", timeout=TIMEOUT_MS)
        assert rosa.evaluate("window.cameraRequests") == 0, "the camera opened after the end"

    wait_until_all_consumed(redis_client, settings)
    captures = _captures(engine, rosa_id)
    assert len(captures) == 3
    for capture, seqs in captures.items():
        assert seqs == list(range(len(seqs))), f"a frame of capture {capture} is missing"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Session)
                           .where(Session.room == room)) == 1, "the reload started a session"
        assert conn.scalar(select(func.count()).select_from(Participant).join(Session)
                           .where(Session.room == room, Participant.display_name == "Rosa")) == 1
        assert shown in {round(t.timestamp() * 1000) for t in conn.scalars(
            select(Sample.captured_at).where(Sample.participant_id == rosa_id))}, (
            "the consultant was shown a reading that is not stored")
    record("fault-reload-and-reconsent", f"""
A client reloaded the room page mid-call, then withdrew and allowed face analysis again: one
participant, 3 captures, frames stored {sum(map(len, captures.values()))} (per capture
{", ".join(str(len(seqs)) for seqs in captures.values())}), 0 missing, 0 duplicated; the
consultant's card showed a stored frame; her reload after the end was refused (the room was
closed; no camera opened) and started no session.""")


def _agree(page: Page) -> None:
    join_call(page, "face")
    expect(page.locator("#status")).to_contain_text("face analysis is on", timeout=TIMEOUT_MS)


def _closed(engine, room_id: uuid.UUID) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(Room.closed_at).where(Room.id == room_id)) is not None


def _captures(engine, participant_id) -> dict[uuid.UUID, list[int]]:
    """Each capture of the participant's, with its stored frame numbers in order."""
    return {capture: [s.seq for s in samples]
            for capture, samples in groupby(samples_of(engine, participant_id),
                                            key=lambda s: s.capture_id)}
