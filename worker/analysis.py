"""Decoded frames in, analysed frames out: find the faces, choose the participant's own
(worker/own_face.py), classify those of a whole batch at once, count the others."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import cv2
import numpy as np

from contracts.emotion_model import INPUT_SIZE, EmotionClassifier
from contracts.frames import Frame
from worker.faces import Face, FaceDetector, crop_face
from worker.head_pose import HeadPose, head_pose
from worker.own_face import Sighting, own_face


class UnreadableImage(ValueError):
    """A frame's JPEG bytes do not decode to an image."""


def decode_image(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UnreadableImage("the JPEG does not decode to an image")
    return image


@dataclass(frozen=True)
class AnalysedFace:
    x: int
    y: int
    w: int
    h: int
    probabilities: Sequence[float]  # in EMOTIONS order
    pose: HeadPose | None  # None where the fit failed


@dataclass(frozen=True)
class AnalysedFrame:
    frame: Frame
    face: AnalysedFace | None  # the participant's own face, if found
    others_in_view: int


class FrameAnalyser:
    def __init__(self, detector: FaceDetector, classifier: EmotionClassifier) -> None:
        self.detector = detector
        self.classifier = classifier

    @property
    def model_version(self) -> str:
        return self.classifier.version

    def analyse(self, frames: Sequence[Frame], images: Sequence[np.ndarray],
                last_seen: Mapping[UUID, Sighting]) -> list[AnalysedFrame]:
        """Each frame with its decoded BGR image, and where each capture's participant was last
        seen before these frames; frames come back in the order given."""
        sightings = dict(last_seen)
        own: dict[int, tuple[Face, HeadPose | None]] = {}
        others: dict[int, int] = {}
        crops = []
        # A capture's frames in their order, so that the face is followed from one to the next.
        for index in sorted(range(len(frames)), key=lambda i: (frames[i].capture_id,
                                                              frames[i].seq)):
            frame, faces = frames[index], self.detector.detect(images[index])
            chosen = own_face(faces, sightings.get(frame.capture_id), frame.captured_at,
                              images[index].shape[1])
            others[index] = len(faces) - (chosen is not None)
            if chosen is not None:
                height, width = images[index].shape[:2]
                own[index] = faces[chosen], head_pose(faces[chosen].keypoints, width, height)
                sightings[frame.capture_id] = Sighting.of(faces[chosen], frame.captured_at)
                gray = cv2.cvtColor(images[index], cv2.COLOR_BGR2GRAY)
                crops.append(crop_face(gray, faces[chosen], INPUT_SIZE))
        stacked = np.stack(crops) if crops else np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
        probabilities = dict(zip(own, self.classifier.predict(stacked), strict=True))
        return [AnalysedFrame(frame, _analysed(own.get(i), probabilities.get(i)), others[i])
                for i, frame in enumerate(frames)]


def _analysed(own: tuple[Face, HeadPose | None] | None, probabilities: Sequence[float] | None
              ) -> AnalysedFace | None:
    if own is None or probabilities is None:
        return None
    face, pose = own
    return AnalysedFace(face.x, face.y, face.w, face.h, probabilities, pose)
