"""Videos made of FER2013 faces with known labels, for tests and benchmarks of the pipeline.

Each face is upscaled into the middle of a larger frame and held for a while, as a person on
a call would be; the clip is encoded as H.264 like a recorded consultation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from training.data import FaceSet


@dataclass(frozen=True)
class Clip:
    path: Path
    labels: np.ndarray  # the emotion index shown during each hold
    seconds_per_face: float
    fps: int

    def label_at(self, seconds: float) -> int:
        return int(self.labels[min(int(seconds // self.seconds_per_face), len(self.labels) - 1)])


def make_clip(path: Path, faces: FaceSet, seconds_per_face: float = 1.0, fps: int = 10,
              size: tuple[int, int] = (640, 480), face_px: int = 192) -> Clip:
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in faces.images:
            frame = framed_face(image, width, height, face_px)
            for _ in range(round(seconds_per_face * fps)):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    return Clip(path, faces.labels.copy(), seconds_per_face, fps)


def framed_face(face: np.ndarray, width: int = 640, height: int = 480, face_px: int = 192
                ) -> np.ndarray:
    """A BGR frame with the 48x48 face upscaled in its middle on a grey background."""
    canvas = np.full((height, width), 128, np.uint8)
    top, left = (height - face_px) // 2, (width - face_px) // 2
    canvas[top:top + face_px, left:left + face_px] = cv2.resize(
        face, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
