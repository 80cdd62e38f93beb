"""Teachers score each training face in seven framings: as it is, shifted two pixels each way,
zoomed in and out."""

from __future__ import annotations

import numpy as np

from training.views import SHIFT_PX, framings


def test_each_face_is_framed_seven_ways_the_first_as_it_is():
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    views = framings(faces)
    assert len(views) == 7
    assert all(view.shape == faces.shape and view.dtype == np.uint8 for view in views)
    assert np.array_equal(views[0], faces)
    right = views[1]
    assert np.array_equal(right[:, :, SHIFT_PX:], faces[:, :, :-SHIFT_PX])
    # The zoomed views keep the centre where it was and show the face larger or smaller.
    assert not np.array_equal(views[5], faces) and not np.array_equal(views[6], faces)
