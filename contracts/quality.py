"""The session quality score: one definition for the room, the dashboard and the SQL views.

A face's *positivity* is the probability the model gives to the expressions that read as
engaged or at ease (happy, surprise, neutral), i.e. one minus the probability of angry,
disgust, fear and sad, on a 0-100 scale. Live, a participant's score is positivity smoothed
over capture time with an exponential half-life so that one frame does not swing it; over a
session or a minute, the score is the mean positivity of the clients' and students' faces
(the SQL views compute exactly that). It describes expressions the model saw, not how anyone
felt, and inherits the model's errors (see the model card).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

POSITIVE = ("happy", "surprise", "neutral")
NEGATIVE = ("angry", "disgust", "fear", "sad")
HALF_LIFE_S = 20.0
# positivity() over emotion_events columns, for queries that aggregate in PostgreSQL.
POSITIVITY_SQL = f"100.0 * ({' + '.join(POSITIVE)})"


def positivity(probabilities: Mapping[str, float]) -> float:
    """0-100: how much of the face's probability lies on the positive expressions."""
    return 100.0 * sum(probabilities[name] for name in POSITIVE)


@dataclass
class SmoothedScore:
    """Exponentially weighted positivity over capture time (seconds)."""

    half_life_s: float = HALF_LIFE_S
    value: float | None = None
    at: float | None = None

    def add(self, score: float, at: float) -> float:
        if self.value is None or self.at is None:
            self.value, self.at = score, at
            return score
        keep = math.pow(0.5, max(0.0, at - self.at) / self.half_life_s)
        self.value = keep * self.value + (1 - keep) * score
        self.at = max(self.at, at)
        return self.value
