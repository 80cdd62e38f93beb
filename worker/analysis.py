"""Decoded frames in, analysed frames out: find faces, classify every face of a batch at once."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from contracts.stream import Frame
from worker.emotion_model import INPUT_SIZE, EmotionClassifier
from worker.events import AnalysedFace, AnalysedFrame
from worker.faces import FaceDetector, crop_face


class UnreadableImage(ValueError):
    """A frame's JPEG bytes do not decode to an image."""


def decode_image(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UnreadableImage("the JPEG does not decode to an image")
    return image


class FrameAnalyser:
    def __init__(self, detector: FaceDetector, classifier: EmotionClassifier) -> None:
        self.detector = detector
        self.classifier = classifier

    @property
    def model_version(self) -> str:
        return self.classifier.version

    def analyse(self, frames: Sequence[Frame], images: Sequence[np.ndarray]
                ) -> list[AnalysedFrame]:
        """Each frame with its decoded BGR image; every face found gets 7 probabilities."""
        crops, faces_per_frame = [], []
        for image in images:
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            faces = self.detector.detect(image)
            crops.extend(crop_face(gray, face, INPUT_SIZE) for face in faces)
            faces_per_frame.append(faces)
        stacked = np.stack(crops) if crops else np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
        probabilities = iter(self.classifier.predict(stacked))
        return [
            AnalysedFrame(frame.session_id, frame.participant_id, frame.seq, frame.captured_at,
                          [AnalysedFace(f.x, f.y, f.w, f.h, next(probabilities)) for f in faces])
            for frame, faces in zip(frames, faces_per_frame, strict=True)
        ]
