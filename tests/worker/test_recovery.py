"""At-least-once without duplicates: a worker killed mid-batch loses nothing, doubles nothing."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from contracts.schema import EmotionEvent, Sample
from tests.support.processes import wait_for
from tests.support.streams import join, pending, publish_images, stored_samples
from training import data
from training.fer_clips import framed_face

FRAMES = 160


def test_a_killed_workers_entries_are_reprocessed_by_another_exactly_once(
        settings, engine, redis_client, worker_factory):
    # Streams of its own, so that no other test's worker takes the victim's entries.
    settings = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-recovery")
    victim = worker_factory("victim", redis_prefix=settings.redis_prefix)
    joined = join(redis_client, settings)
    faces = data.load(data.PUBLIC_TEST).images
    publish_images(redis_client, settings, joined,
                   (framed_face(faces[i % len(faces)]) for i in range(FRAMES)))

    wait_for(lambda: pending(redis_client, settings, "victim") > 0, 60, "the victim's first batch")
    victim.kill()
    assert pending(redis_client, settings, "victim") > 0
    assert stored_samples(engine, joined.participant_id) < FRAMES

    worker_factory("rescuer", redis_prefix=settings.redis_prefix)
    wait_for(lambda: stored_samples(engine, joined.participant_id) == FRAMES, 180,
             "the rescuer to store every frame")
    wait_for(lambda: pending(redis_client, settings) == 0, 30, "no entry left pending")

    with engine.connect() as conn:
        seqs = conn.scalars(select(Sample.seq).where(Sample.participant_id == joined.participant_id)
                            .order_by(Sample.seq)).all()
        events, distinct = conn.execute(
            select(func.count(), func.count(func.distinct(EmotionEvent.seq)))
            .where(EmotionEvent.participant_id == joined.participant_id)).one()
    assert seqs == list(range(FRAMES))
    assert events == distinct > 0
