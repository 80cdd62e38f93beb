"""The face detector finds faces where they are, and the crop frames them like FER2013."""

from __future__ import annotations

import numpy as np
import pytest

from training import data
from training.fer_clips import framed_face
from worker.faces import Face, FaceDetector, crop_face


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def test_a_face_in_the_middle_of_the_frame_is_found_there(detector):
    faces = data.load(data.PUBLIC_TEST).images[:20]
    found = [detector.detect(framed_face(face)) for face in faces]
    assert sum(bool(f) for f in found) >= 14
    for hits in found:
        for face in hits[:1]:
            centre = (face.x + face.w / 2, face.y + face.h / 2)
            assert centre == pytest.approx((320, 240), abs=40)
            assert 90 <= face.w <= 260


def test_an_empty_frame_has_no_face(detector):
    assert detector.detect(np.full((480, 640, 3), 128, np.uint8)) == []


def test_a_crop_at_the_edge_of_the_frame_keeps_its_size():
    gray = np.arange(100 * 120, dtype=np.uint32).reshape(100, 120).astype(np.uint8)
    crop = crop_face(gray, Face(x=-10, y=80, w=40, h=40, score=0.9), size=48)
    assert crop.shape == (48, 48)
