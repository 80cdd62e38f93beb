"""The faces in a frame (MediaPipe BlazeFace, ``worker/blazeface.py``), and the crop the emotion
model sees.

Short range first: on 140 FER2013 faces filling half a 640x480 frame (a face near the camera,
with no hair or shoulders around it) it found 98%, full range, built for faces far from the
camera, 76%. Full range runs as well where short range has found no face at least a fifth of the
frame across (no one near the camera): it finds the faces short range cannot see, small ones in
a gallery and a student far from the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from worker.blazeface import Candidates, full_range, short_range

MIN_SCORE = 0.5
# Short range's share of the frame: below it, its recall falls (0-90% of frames of real clips
# shown four times farther away), so full range looks too.
NEAR_FACE = 0.2
# Two boxes are one face when this share of the smaller lies inside the larger: the two models
# frame the same face differently, so plain overlap would keep both.
SAME_FACE = 0.5
# Where FER2013's registered faces have their eyes, found by this detector on 226 PublicTest
# faces: their midpoint 40.6% down the crop (sd 5%), 34.9% of its width apart. BlazeFace's box
# centred in the crop put live eyes 33.7% down instead (real clips, `econsult bench faces`),
# so the crop places the eyes, and the box, steadier than the eyes on turned heads, sets its size.
FER_EYE_HEIGHT = 0.406
FER_EYE_SPACING = 0.349
BOX_EYE_SPACING = 0.39  # eye distance over BlazeFace's box side, on the same real clips
CROP_MARGIN = (BOX_EYE_SPACING / FER_EYE_SPACING - 1) / 2


@dataclass(frozen=True)
class Face:
    x: int
    y: int
    w: int
    h: int
    score: float
    eyes: tuple[tuple[float, float], tuple[float, float]]  # centres, in frame pixels
    # BlazeFace's six points (worker/blazeface.py), for the head's pose; none where not known.
    keypoints: tuple[tuple[float, float], ...] = ()

    @property
    def tilt_degrees(self) -> float:
        """In-plane rotation of the head: the angle of the line through both eyes."""
        (x0, y0), (x1, y1) = sorted(self.eyes)
        return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


class FaceDetector:
    """Finds faces in BGR frames; one per worker process (its models run on one thread)."""

    def __init__(self, min_score: float = MIN_SCORE) -> None:
        self._short, self._full = short_range(), full_range()
        self._min_score = min_score

    def detect(self, frame: np.ndarray) -> list[Face]:
        """Faces in a BGR frame, most confident first, in the frame's pixel coordinates."""
        height, width = frame.shape[:2]
        found = [self._short.detect(frame, self._min_score)]
        sides = np.max(found[0].corners[:, 2:] - found[0].corners[:, :2], axis=1, initial=0)
        if not np.any(sides >= NEAR_FACE * max(height, width)):
            found.append(self._full.detect(frame, self._min_score))
        candidates = Candidates(*(np.concatenate(parts) for parts in zip(
            *((c.corners, c.scores, c.keypoints) for c in found), strict=True)))
        faces = []
        for index in _distinct(candidates.corners, candidates.scores):
            x0, y0, x1, y1 = np.clip(candidates.corners[index], 0, [width, height, width, height])
            if x1 - x0 >= 1 and y1 - y0 >= 1:
                points = tuple((float(x), float(y)) for x, y in candidates.keypoints[index])
                faces.append(Face(int(x0), int(y0), int(x1 - x0), int(y1 - y0),
                                  float(candidates.scores[index]), (points[0], points[1]),
                                  points))
        return faces


def crop_face(gray_frame: np.ndarray, face: Face, size: int, margin: float = CROP_MARGIN
              ) -> np.ndarray:
    """A ``size``-pixel square grayscale crop of the face, framed like FER2013's faces."""
    side = crop_side(face, margin)
    crop = cv2.warpAffine(gray_frame, crop_matrix(face, side), (side, side),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def crop_side(face: Face, margin: float = CROP_MARGIN) -> int:
    """The crop's side in frame pixels, before it is resized for the model."""
    return max(1, round(max(face.w, face.h) * (1 + 2 * margin)))


def crop_matrix(face: Face, side: int) -> np.ndarray:
    """Frame to crop coordinates: eyes level (FER2013's faces are upright), their midpoint at
    FER2013's height, the face box centred across."""
    eyes = np.mean(face.eyes, axis=0)
    matrix = cv2.getRotationMatrix2D((float(eyes[0]), float(eyes[1])), face.tilt_degrees, 1.0)
    box_centre = matrix @ (face.x + face.w / 2, face.y + face.h / 2, 1.0)
    matrix[:, 2] -= (box_centre[0] - side / 2, eyes[1] - FER_EYE_HEIGHT * side)
    return matrix


def eyes_in_crop(face: Face) -> np.ndarray:
    """Where the crop puts the eyes, as fractions of its side (x, y per eye)."""
    side = crop_side(face)
    return np.array([[x, y, 1.0] for x, y in face.eyes]) @ crop_matrix(face, side).T / side


def _distinct(corners: np.ndarray, scores: np.ndarray) -> list[int]:
    """Indices of the boxes kept by greedy suppression, best first: a box is dropped when most
    of it, or of a better box, lies inside the other."""
    order = list(np.argsort(-scores))
    areas = np.prod(corners[:, 2:] - corners[:, :2], axis=1)
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(best)
        top_left = np.maximum(corners[best, :2], corners[order, :2])
        bottom_right = np.minimum(corners[best, 2:], corners[order, 2:])
        overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
        inside = overlap / (np.minimum(areas[best], areas[order]) + 1e-9)
        order = [i for i, share in zip(order, inside, strict=True) if share <= SAME_FACE]
    return kept
