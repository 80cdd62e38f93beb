"""The framings in which a teacher scores each training face.

A served model already averages each face with its mirror image; scoring the face also shifted
and zoomed a little averages out more of one network's noise. Over these seven framings the
mean of cnn48mix-v4, cnn48mix-v2 and cnn48-v5 scored 70.3% on PublicTest, against 69.6% on the
faces alone: a better teacher, at seven times the cost, which only training pays.
"""

from __future__ import annotations

import cv2
import numpy as np

SHIFT_PX = 2
ZOOMS = (1.08, 0.93)


def framings(faces: np.ndarray) -> list[np.ndarray]:
    """``faces`` (N, H, W) as they are, shifted right, left, up and down, zoomed in and out."""
    shifts = [(SHIFT_PX, 0), (-SHIFT_PX, 0), (0, -SHIFT_PX), (0, SHIFT_PX)]
    moves = [_shift(dx, dy) for dx, dy in shifts] + [_zoom(faces.shape[1:], z) for z in ZOOMS]
    return [faces] + [_warp(faces, move) for move in moves]


def _shift(dx: int, dy: int) -> np.ndarray:
    return np.float32([[1, 0, dx], [0, 1, dy]])


def _zoom(shape: tuple[int, ...], factor: float) -> np.ndarray:
    height, width = shape
    return cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), 0, factor)


def _warp(faces: np.ndarray, move: np.ndarray) -> np.ndarray:
    size = (faces.shape[2], faces.shape[1])
    return np.stack([cv2.warpAffine(face, move, size, flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) for face in faces])
