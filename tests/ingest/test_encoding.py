"""A sampled frame reaches the stream as a JPEG of the picture the call showed: its colours as
the decoder gave them, no wider than analysis needs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from av import VideoFrame

from ingest.encoding import encode_video_frame
from tests.support.media import LONDON


def _face(width: int, height: int) -> np.ndarray:
    face = cv2.imread(str(sorted(LONDON.glob("*.jpg"))[0]))
    return cv2.resize(face, (width, height), interpolation=cv2.INTER_AREA)


def _decoded(bgr: np.ndarray) -> VideoFrame:
    """``bgr`` as a video decoder gives it: planar YUV 4:2:0 in the limited range."""
    return VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")


def _read(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).astype(np.float64)


def test_the_jpeg_shows_the_colours_the_decoder_gave():
    frame = _decoded(_face(320, 240))
    shown = cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    error = _read(encode_video_frame(frame, 640, 80)) - shown
    # Stored without stretching to JPEG's full range, the image loses contrast: 11 levels off
    # on average, shadows lifted and highlights dimmed.
    assert np.abs(error).mean() < 2.5
    assert np.abs(error.mean(axis=(0, 1))).max() < 0.5


@pytest.mark.parametrize("size, sent", [((960, 540), (640, 360)), ((641, 361), (640, 360)),
                                        ((321, 241), (321, 241))])
def test_a_frame_wider_than_analysis_needs_is_scaled_down_whole(size, sent):
    face = _face(*size)
    jpeg = _read(encode_video_frame(_decoded(face), 640, 80))
    assert (jpeg.shape[1], jpeg.shape[0]) == sent
    assert np.abs(jpeg - cv2.resize(face, sent, interpolation=cv2.INTER_AREA)).mean() < 3
