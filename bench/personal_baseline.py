"""The personal reading (contracts.baseline) measured on per-person sequences: each person of the
London set (a neutral and a smiling photograph of 102 adults) as a session of mostly neutral
frames with smiles among them.

A photograph is not a video: each frame is the photograph moved, turned, scaled, lit and noised
a little at random, as a webcam's frames of a still person differ. Every session starts with
:data:`BEFORE` neutral frames (20 s at 2 frames a second); then, five times, 9 neutral frames and
3 smiling ones. Frames after the first :data:`BEFORE` are scored: a smile is right when read
happy, a neutral face when read neutral, by the model alone and by the personal reading. Half
the people (odd numbers) chose contracts.baseline's constants; figures are given for the other
half as well as for all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from contracts.baseline import UsualFace
from contracts.labels import EMOTIONS
from contracts.smoothing import leading

BEFORE = 40
SESSION = ["neutral"] * BEFORE + (["neutral"] * 9 + ["happy"] * 3) * 5

Reader = Callable[[np.ndarray], np.ndarray | None]  # a frame's probabilities, or None


def personal_figures(london: Path, read: Reader) -> dict[str, float]:
    """Shares of smiles read happy and neutral faces read neutral, by the model alone and by the
    personal reading, for all people and for the half that did not choose the constants."""
    people = sorted({photo.name.split("_")[0] for photo in london.glob("*_neutral.jpg")})
    scored = [_session(london, person, index, read) for index, person in enumerate(people)]
    figures = {}
    for group, chosen in ((f"all {len(scored)}", scored), (f"held-out {len(scored[1::2])}",
                                                          scored[1::2])):
        frames = [frame for session in chosen for frame in session]
        for truth, words in (("happy", "smiles read happy"), ("neutral", "neutral read neutral")):
            own = [(model, personal) for label, model, personal in frames if label == truth]
            figures[f"{group}, {words}: model alone"] = float(
                np.mean([model == truth for model, _ in own]))
            figures[f"{group}, {words}: personal reading"] = float(
                np.mean([personal == truth for _, personal in own]))
    return figures


def _session(london: Path, person: str, seed: int, read: Reader
             ) -> list[tuple[str, str | None, str | None]]:
    """(truth, model's reading, personal reading) of each scored frame; None: no face found."""
    rng = np.random.default_rng(seed)
    photos = {label: cv2.imread(str(london / f"{person}_{label}.jpg"))
              for label in ("neutral", "happy")}
    usual, scored = UsualFace(), []
    for index, label in enumerate(SESSION):
        probabilities = read(_moved(photos[label], rng))
        named = None if probabilities is None else dict(zip(EMOTIONS, map(float, probabilities),
                                                            strict=True))
        personal = None if named is None else usual.add(named, index / 2)
        if index >= BEFORE:
            scored.append((label, named and leading(named), personal and leading(personal)))
    return scored


def _moved(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = photo.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-3, 3),
                                   rng.uniform(0.96, 1.04))
    turn[:, 2] += rng.uniform(-0.03, 0.03, 2) * (width, height)
    moved = cv2.warpAffine(photo, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
    lit = moved.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.normal(0, 3, moved.shape)
    return np.clip(lit, 0, 255).astype(np.uint8)
