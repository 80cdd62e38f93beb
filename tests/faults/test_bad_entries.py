"""A bad entry is a dead letter, never a crash: 200 malformed entries of every kind, mixed into
a normal session's frames, are all dead-lettered with their reason; the worker never stops,
and the normal session is stored whole."""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np
from sqlalchemy import func, select

from contracts.frames import Frame
from contracts.schema import Participant, Session
from contracts.stream import StreamKeys
from ingest.encoding import encode_frame
from tests.support.figures import record
from tests.support.processes import wait_for
from tests.support.streams import Joined, as_read, join, publish_images, stored_samples
from training import data
from training.fer_clips import framed_face

NORMAL_FRAMES = 100
EACH = 10


def _malformed(joined: Joined, elsewhere: uuid.UUID) -> dict[str, dict]:
    """Ten entries of each kind, by (a part of) the reason each must be refused for."""
    jpeg = encode_frame(np.zeros((48, 64, 3), np.uint8), 640, 80)
    frame = as_read(Frame(joined.session_id, joined.participant_id, uuid.uuid4(), 0,
                          joined.started, jpeg).encode())
    event = {b"v": b"2", b"session": str(uuid.uuid4()).encode(), b"at_ms": b"1764000000000"}
    started = event | {b"kind": b"session_started", b"source": b"room"}
    joins = event | {b"kind": b"participant_joined", b"participant": str(uuid.uuid4()).encode(),
                     b"role": b"client", b"name": b"Mallory"}
    return {
        "'captured_at_ms' is 100000000000000000000": frame | {b"captured_at_ms": b"1" + b"0" * 20},
        "'captured_at_ms' is -1000000000000000": frame | {b"captured_at_ms": b"-1" + b"0" * 15},
        "'seq' is 2147483648": frame | {b"seq": str(2**31).encode()},
        "frame: participant": frame | {b"session": str(uuid.uuid4()).encode()},
        "'participant' is not a UUID": frame | {b"participant": b"mallory"},
        "'capture' is missing": {k: v for k, v in frame.items() if k != b"capture"},
        "contract version": frame | {b"v": b"1"},
        "does not decode to an image": frame | {b"jpeg": jpeg[:200]},
        "5000x8 image": frame | {b"jpeg": encode_frame(np.zeros((8, 5000, 3), np.uint8), 5000,
                                                        10)},
        "more than 1048576": frame | {b"jpeg": jpeg + bytes(1 << 20)},
        "field 'room' is longer": started | {b"room": b"r" * 201},
        "field 'room' holds control characters": started | {b"room": b"intake\x00-42"},
        "field 'name' is longer": joins | {b"name": b"n" * (1 << 20)},
        "role 'boss'": joins | {b"role": b"boss"},
        "unknown room event kind": event | {b"kind": b"party_started"},
        "'at_ms' is 100000000000000000000": started | {b"room": b"r", b"at_ms": b"1" + b"0" * 20},
        "'name' is not UTF-8": joins | {b"name": b"\xff\xfe"},
        "room event: participant": event | {
            b"kind": b"consent_given", b"session": str(elsewhere).encode(),
            b"participant": str(joined.participant_id).encode()},
        "was never recorded": joins,
        "reason 'bored'": event | {b"kind": b"session_ended", b"reason": b"bored"},
    }


def test_two_hundred_malformed_entries_are_dead_lettered_and_a_session_beside_them_is_whole(
        own_streams, engine, redis_client, worker_factory, dead_letters):
    worker = worker_factory(redis_prefix=own_streams.redis_prefix)
    keys = StreamKeys.for_prefix(own_streams.redis_prefix)
    joined = join(redis_client, own_streams, room="beside-the-bad")
    other = join(redis_client, own_streams, room="elsewhere")
    kinds = _malformed(joined, other.session_id)
    assert len(kinds) * EACH == 200
    bad = [(kind, fields) for kind, fields in kinds.items() for _ in range(EACH)]
    face = framed_face(data.load(data.PUBLIC_TEST).images[0])
    for seq in range(NORMAL_FRAMES):
        publish_images(redis_client, own_streams, joined, [face], first_seq=seq)
        for _, fields in bad[2 * seq:2 * seq + 2]:
            redis_client.xadd(keys.frames if b"jpeg" in fields else keys.room_events, fields)

    wait_for(lambda: len(dead_letters(own_streams)) >= 200, 120, "200 dead letters")
    wait_for(lambda: stored_samples(engine, joined.participant_id) == NORMAL_FRAMES, 60,
             "the normal session's frames")
    reasons = [d[b"dead_reason"].decode() for d in dead_letters(own_streams)]
    assert len(reasons) == 200
    assert Counter(kind for reason in reasons for kind in kinds if kind in reason) == (
        dict.fromkeys(kinds, EACH)), "each entry is refused for its own fault, and only that"
    assert worker.process.poll() is None, "the worker stopped"
    record("bad-entries", f"""
{len(bad)} malformed entries of {len(kinds)} kinds among {NORMAL_FRAMES} frames of a normal session:
{len(reasons)} dead-lettered, each for its own fault; the session's frames published
{NORMAL_FRAMES}, stored {NORMAL_FRAMES}, 0 duplicated; the worker never stopped.""")
    # The worker deletes an entry once it is handled: the last ones may still be on their way.
    wait_for(lambda: redis_client.xlen(keys.frames) == redis_client.xlen(keys.room_events) == 0,
             30, "every entry, good or bad, to leave the streams")
    # Nothing of the bad entries' own sessions (the normal one aside) was stored.
    theirs = {uuid.UUID(fields[b"session"].decode()) for _, fields in bad
              if b"session" in fields} - {joined.session_id, other.session_id}
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Participant).where(
            Participant.session_id.in_(theirs))) == 0
        assert conn.scalar(select(func.count()).select_from(Session).where(
            Session.id.in_(theirs))) == 0
