"""Entries that break the contract go to the dead-letter stream with a reason, without their
image, and never hold up the group; frames of people who did not consent are never analysed."""

from __future__ import annotations

import uuid

import numpy as np

from bench.streams import join, publish_images, stored_samples, wait_until_consumed
from contracts.stream import StreamKeys
from training import data
from training.fer_clips import framed_face


def _dead_letters(redis_client, settings) -> list[dict[bytes, bytes]]:
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    return [fields for _, fields in redis_client.xrange(keys.dead_letter)]


def test_corrupt_frames_are_dead_lettered_and_later_frames_still_stored(
        settings, engine, redis_client, worker):
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    joined = join(redis_client, settings)
    good = {b"v": b"1", b"session": str(joined.session_id).encode(),
            b"participant": str(joined.participant_id).encode(), b"captured_at_ms": b"0"}
    redis_client.xadd(keys.frames, {**good, b"seq": b"0", b"session": b"not-a-uuid",
                                    b"jpeg": b"\xff\xd8 a face"})
    redis_client.xadd(keys.frames, {**good, b"seq": b"1", b"jpeg": b"\xff\xd8 not really"})
    redis_client.xadd(keys.frames, {**good, b"v": b"99", b"seq": b"2", b"jpeg": b"\xff\xd8"})
    face = framed_face(data.load(data.PUBLIC_TEST).images[0])
    [last] = publish_images(redis_client, settings, joined, [face], first_seq=3)

    wait_until_consumed(redis_client, settings, last)
    assert stored_samples(engine, joined.participant_id) == 1
    dead = [d for d in _dead_letters(redis_client, settings)
            if d.get(b"participant") == str(joined.participant_id).encode()]
    reasons = sorted(d[b"dead_reason"].decode() for d in dead)
    assert len(reasons) == 3
    assert any("'session' is not a UUID" in r for r in reasons)
    assert any("does not decode to an image" in r for r in reasons)
    assert any("contract version" in r for r in reasons)
    assert all(b"jpeg" not in d and d[b"dead_source"] == keys.frames.encode() for d in dead)


def test_malformed_room_events_are_dead_lettered(settings, redis_client, worker):
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    marker = str(uuid.uuid4()).encode()
    redis_client.xadd(keys.room_events, {b"v": b"1", b"kind": b"party_started",
                                         b"session": marker, b"at_ms": b"0"})
    joined = join(redis_client, settings)
    [last] = publish_images(redis_client, settings, joined, [np.zeros((48, 64, 3), np.uint8)])
    wait_until_consumed(redis_client, settings, last)
    [dead] = [d for d in _dead_letters(redis_client, settings) if d.get(b"session") == marker]
    assert b"unknown room event kind 'party_started'" in dead[b"dead_reason"]


def test_frames_of_a_participant_without_consent_are_not_analysed(
        settings, engine, redis_client, worker):
    joined = join(redis_client, settings, consent=False)
    face = framed_face(data.load(data.PUBLIC_TEST).images[0])
    ids = publish_images(redis_client, settings, joined, [face, face, face])
    wait_until_consumed(redis_client, settings, ids[-1])
    assert stored_samples(engine, joined.participant_id) == 0
