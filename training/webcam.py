"""Training faces made to look as a webcam through this pipeline shows them.

FER2013's faces are mostly frontal, well lit and cleanly cropped; on a call the worker crops a
face that is a little turned, off-centre in its crop (the detector's eyes err by a few pixels),
often small (a student far from the camera), lit by a screen, blurred by motion or focus and
compressed twice (the browser's video codec, then the stream's JPEG). Each training face gets a
random mix of those, freshly drawn every epoch. The model's own layers add mirroring and shifts.
"""

from __future__ import annotations

import cv2
import keras
import numpy as np

ROTATION_DEGREES = 12  # residual tilt after the crop levels the eyes, and head roll mid-turn
SCALE = (0.9, 1.12)  # the detector's box, and so the crop, is a little larger or smaller
SHIFT_PX = 2
SMALL_SIDES = (14, 40)  # a face this many pixels across in the frame, upscaled to 48
JPEG_QUALITY = (25, 85)


class WebcamBatches(keras.utils.PyDataset):
    """Batches of ``(faces, targets)``: shuffled, every face given webcam-like faults."""

    def __init__(self, faces: np.ndarray, targets: np.ndarray, batch_size: int, seed: int,
                 ) -> None:
        super().__init__()
        self.faces, self.targets, self.batch_size = faces, targets, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(faces))

    def __len__(self) -> int:
        return -(-len(self.faces) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        faces = np.stack([webcam_view(face, self.rng) for face in self.faces[chosen]])
        return faces.astype(np.float32)[..., np.newaxis], self.targets[chosen]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.faces))


def webcam_view(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One grayscale face (H, W) uint8 as a webcam might have shown it."""
    face = _reframed(face, rng)
    if rng.random() < 0.3:
        face = _smaller(face, int(rng.integers(*SMALL_SIDES)))
    if rng.random() < 0.2:
        face = cv2.GaussianBlur(face, (0, 0), float(rng.uniform(0.5, 1.2)))
    if rng.random() < 0.5:
        face = _relit(face, rng)
    if rng.random() < 0.5:
        face = _compressed(face, int(rng.integers(*JPEG_QUALITY)))
    return face


def _reframed(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = face.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2),
                                     float(rng.uniform(-ROTATION_DEGREES, ROTATION_DEGREES)),
                                     float(rng.uniform(*SCALE)))
    matrix[:, 2] += rng.uniform(-SHIFT_PX, SHIFT_PX, 2)
    return cv2.warpAffine(face, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _smaller(face: np.ndarray, side: int) -> np.ndarray:
    small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, face.shape[::-1], interpolation=cv2.INTER_LINEAR)


def _relit(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gamma, contrast and exposure of a screen-lit room; in dim light, sensor noise too."""
    pixels = (face.astype(np.float32) / 255) ** rng.uniform(0.7, 1.4)
    pixels = (pixels - pixels.mean()) * rng.uniform(0.6, 1.2) + pixels.mean()
    exposure = rng.uniform(0.5, 1.15)
    pixels = pixels * exposure * 255
    if exposure < 0.75:
        pixels += rng.normal(0, rng.uniform(2, 8), pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _compressed(face: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else face
