"""A frame as it travels on the stream: downscaled to what analysis needs, then JPEG."""

from __future__ import annotations

import cv2
import numpy as np


def encode_frame(bgr: np.ndarray, max_width: int, quality: int) -> bytes:
    height, width = bgr.shape[:2]
    if width > max_width:
        size = (max_width, max(1, round(height * max_width / width)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"could not encode a {width}x{height} frame as JPEG")
    return jpeg.tobytes()
