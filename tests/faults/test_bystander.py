"""Only the consenting person is analysed: with someone else in view behind her, every stored
expression is hers, and the other face is only counted."""

from __future__ import annotations

import cv2
import numpy as np
from sqlalchemy import select

from contracts.schema import EmotionEvent, Sample
from tests.support.figures import record
from tests.support.processes import wait_for
from tests.support.streams import join, publish_images, stored_samples
from training import data
from training.fer_clips import framed_face

FRAMES = 30
BYSTANDER_PX = 140


def _with_a_bystander(participant: np.ndarray, bystander: np.ndarray) -> np.ndarray:
    """The participant at the camera, in the middle; someone further back, at the top left."""
    frame = framed_face(participant)
    frame[20:20 + BYSTANDER_PX, 20:20 + BYSTANDER_PX] = cv2.cvtColor(
        cv2.resize(bystander, (BYSTANDER_PX, BYSTANDER_PX), interpolation=cv2.INTER_CUBIC),
        cv2.COLOR_GRAY2BGR)
    return frame


def test_a_bystanders_face_is_counted_and_never_analysed(settings, engine, redis_client,
                                                          worker):
    faces = data.load(data.PUBLIC_TEST).images
    joined = join(redis_client, settings, room="with-a-bystander")
    publish_images(redis_client, settings, joined,
                   (_with_a_bystander(faces[i], faces[100 + i]) for i in range(FRAMES)))
    wait_for(lambda: stored_samples(engine, joined.participant_id) == FRAMES, 90,
             "every frame to be stored")

    with engine.connect() as conn:
        samples = conn.execute(select(Sample).where(
            Sample.participant_id == joined.participant_id)).all()
        events = conn.execute(select(EmotionEvent).where(
            EmotionEvent.participant_id == joined.participant_id)).all()
    seen_behind = sum(s.others_in_view > 0 for s in samples)
    assert seen_behind >= FRAMES // 3, "the bystander was seldom found: too little was tested"
    assert len(events) == sum(s.face_found for s in samples) >= FRAMES // 2
    assert all(s.others_in_view <= 1 for s in samples)
    for event in events:  # the participant's face, in the middle; never the one at the corner
        centre = (event.box_x + event.box_w / 2, event.box_y + event.box_h / 2)
        assert abs(centre[0] - 320) < 60 and abs(centre[1] - 240) < 60, centre
    record("bystander", f"""
Someone else in view behind a consenting participant in all {FRAMES} frames: found in
{seen_behind}, counted as others in view; stored expressions {len(events)}, all of the
participant's face, 0 of the bystander's.""")
