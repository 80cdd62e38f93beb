"""Whose face is analysed: the participant's own, chosen in their camera and followed.

A participant's camera may show other people: a relative behind them, a colleague passing.
Only the participant agreed to be analysed, so in each frame exactly one face, or none, is
theirs; the others are counted as "others in view" and never classified.

How the face is chosen, per capture (one analysis stream of one device):

1. With nothing known yet, the participant's face is the largest of those in the middle
   ``CENTRAL_SHARE`` of the frame's width: the person at the camera sits in front of it and
   nearer to it than anyone behind them. A face off to the side is not taken for theirs.
2. Once their face has been found, it is followed: within ``FOLLOW_S`` of the last sighting,
   their face is the one nearest where it was, if it moved less than ``MAX_STEP`` face sizes.
   A face that appears elsewhere, or one less than ``MIN_SIZE_RATIO`` of their size (someone
   further back), is someone else's.
3. Out of view for longer, they may come back anywhere: their face is then the face nearest
   where it was last seen, of at least ``MIN_SIZE_RATIO`` of its size.
4. After ``REACQUIRE_S`` without them, rule 1 applies again.

Limits: faces are told apart by where they are and how large, not by who they are. Someone
who takes the participant's seat while they are away, or leans in larger than them in the
middle of the frame after ``REACQUIRE_S``, is taken for them; a participant who sits off to the
side of their own camera is analysed only once they have been found in its middle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from worker.faces import Face

FOLLOW_S = 2.0
MAX_STEP = 1.0
MIN_SIZE_RATIO = 0.5
REACQUIRE_S = 30.0
CENTRAL_SHARE = 0.7


@dataclass(frozen=True)
class Sighting:
    """Where and when the participant's own face was last found, in frame pixels."""

    at: datetime
    x: float
    y: float
    w: float
    h: float

    @property
    def size(self) -> float:
        return max(self.w, self.h)

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @classmethod
    def of(cls, face: Face, at: datetime) -> Sighting:
        return cls(at, face.x, face.y, face.w, face.h)


def own_face(faces: Sequence[Face], last: Sighting | None, at: datetime, frame_width: int
             ) -> int | None:
    """The index of the participant's face among ``faces`` (in a frame ``frame_width`` pixels
    wide, captured at ``at``), or None."""
    since = (at - last.at).total_seconds() if last is not None else math.inf
    if last is None or since > REACQUIRE_S:
        margin = frame_width * (1 - CENTRAL_SHARE) / 2
        central = [i for i, face in enumerate(faces)
                   if margin <= face.x + face.w / 2 <= frame_width - margin]
        return max(central, key=lambda i: faces[i].w * faces[i].h, default=None)
    distance = {i: math.dist(Sighting.of(face, at).centre, last.centre)
                for i, face in enumerate(faces)
                if max(face.w, face.h) >= MIN_SIZE_RATIO * last.size}
    if since <= FOLLOW_S:
        distance = {i: d for i, d in distance.items() if d <= MAX_STEP * last.size}
    return min(distance, key=distance.get) if distance else None
