"""Model-only and detector-only speed, one CPU thread, on FER2013 faces."""

from __future__ import annotations

import time
from collections.abc import Callable

from training import data
from training.fer_clips import framed_face
from worker.emotion_model import EmotionClassifier
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
    return {f"model faces/s, batch {n}": per_second(lambda n=n: classifier.predict(faces[:n]), n)
            for n in (1, 32)}


def detector_ms_per_frame() -> dict[str, float]:
    detector = FaceDetector()
    faces = data.load(data.PUBLIC_TEST).images[:50]
    frames = [framed_face(face) for face in faces]
    found = sum(bool(detector.detect(frame)) for frame in frames)
    rate = per_second(lambda: [detector.detect(f) for f in frames], len(frames))
    return {"detector ms/frame (640x480)": 1000 / rate,
            "detector recall on framed FER faces": found / len(frames)}
