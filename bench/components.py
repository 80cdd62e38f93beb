"""Model-only and detector-only figures, one CPU thread, on FER2013 faces."""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np

from contracts.emotion_model import EmotionClassifier
from training import data
from training.fer_clips import framed_face
from worker.faces import FaceDetector


def per_second(work: Callable[[], object], items_per_call: int, seconds: float = 3.0) -> float:
    work()  # warm-up: graph tracing and allocation are not part of the figure
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        calls += 1
    return calls * items_per_call / (time.perf_counter() - start)


def model_faces_per_second(model_path: str) -> dict[str, float]:
    classifier = EmotionClassifier(model_path, threads=1)
    faces = data.load(data.PUBLIC_TEST).images
    rates = {n: per_second(lambda n=n: classifier.predict(faces[:n]), n) for n in (1, 32)}
    return {**{f"model faces/s, batch {n}": rate for n, rate in rates.items()},
            "model ms per face, batch 32 (the cost budget is 1 ms)": 1000 / rates[32]}


def detector_figures() -> dict[str, float]:
    """ms per 640x480 frame, and the share of faces found: upright, tilted, small.

    FER2013 faces are tight crops without hair or shoulders, which BlazeFace leans on for small
    faces: the small-face figure understates what real calls give.
    """
    detector = FaceDetector()
    faces = data.load(data.PUBLIC_TEST).images[:60]
    upright = [framed_face(face) for face in faces]
    tilted = [cv2.warpAffine(frame, cv2.getRotationMatrix2D((320, 240), angle, 1.0), (640, 480),
                             borderValue=(128, 128, 128))
              for frame, angle in zip(upright, [-20, 20] * 30, strict=True)]
    small = [framed_face(face, face_px=80) for face in faces]
    rate = per_second(lambda: [detector.detect(f) for f in upright], len(upright))
    return {
        "detector ms/frame (640x480)": 1000 / rate,
        "detector recall, upright FER face of 192 px": _recall(detector, upright),
        "detector recall, FER face tilted 20 degrees": _recall(detector, tilted),
        "detector recall, FER face of 80 px": _recall(detector, small),
    }


def _recall(detector: FaceDetector, frames: list[np.ndarray]) -> float:
    return sum(bool(detector.detect(frame)) for frame in frames) / len(frames)
