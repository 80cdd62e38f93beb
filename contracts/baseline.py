"""The personal reading: a participant's expressions compared with their usual face, one
definition in Python (the room) and SQL (the dashboard, the analysts' view).

Some people's resting face reads as sad or angry all session long, and a closed-mouth smile
mostly reads as neutral: the model compares everyone with everyone. The personal reading
compares a face with the same person's usual one instead. Their *usual* probability of each
expression, at a frame, is the geometric mean of their probabilities over the frames of the
session captured in the :data:`USUAL_S` seconds before it (each floored at :data:`FLOOR`). A
frame's personal probabilities are its own divided by the usual ones, weighted by
:data:`REFERENCE` (how a face exactly like the usual one reads) and normalised: a resting face
that the model reads as sad is this person's neutral, and a smile that only moved some
probability towards happy reads as happy. It is defined once :data:`MIN_FRAMES` of the person's
frames came before; until then there is no usual face to compare with.

The stored probabilities stay exactly as the model gave them; the personal reading is a second
reading, shown as "compared with their usual expression", and smoothed as the first one is
(contracts.smoothing).
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts.labels import EMOTIONS
from contracts.smoothing import LiveReading, Reading, sql_columns

USUAL_S = 300.0
MIN_FRAMES = 20
FLOOR = 0.001
# Logs are summed in these units, the twelve decimals of personal_sql's.
LOG_UNITS = 10**12
# A face like the usual one reads neutral (0.4, each other expression 0.1): another expression
# leads once its probability, relative to the usual, has grown 4 times more than neutral's. Chosen
# on half the London set's people as sessions (bench/personal_baseline.py), measured on the
# other half.
REFERENCE_OTHER = 0.1
REFERENCE = {name: round(1 - 6 * REFERENCE_OTHER, 6) if name == "neutral" else REFERENCE_OTHER
             for name in EMOTIONS}


@dataclass
class UsualFace:
    """One participant's recent faces, fed as their frames are stored (possibly a little out of
    capture order)."""

    # (capture time, the logs of its probabilities in LOG_UNITS), in capture order, within
    # USUAL_S of the newest; and the logs' sums, kept as frames come and go: in whole units,
    # which add and take away exactly however long the session (a float sum would drift).
    frames: list[tuple[float, list[int]]] = field(default_factory=list)
    sums: list[int] = field(default_factory=lambda: [0] * len(EMOTIONS))

    def add(self, probabilities: Mapping[str, float], at: float) -> dict[str, float] | None:
        """The personal probabilities of the frame captured at ``at`` (seconds), or None while
        fewer than :data:`MIN_FRAMES` of the person's frames came before it."""
        logs = [round(math.log(max(probabilities[name], FLOOR)) * LOG_UNITS) for name in EMOTIONS]
        if not self.frames or at > self.frames[-1][0]:
            # The usual case, a frame after all the others: those kept, less the ones too old
            # for it, are the frames before it.
            self._forget_before(at - USUAL_S)
            count, sums = len(self.frames), list(self.sums)
        else:
            before = [p for t, p in self.frames if at - USUAL_S <= t < at]
            count, sums = len(before), [sum(p[i] for p in before) for i in range(len(EMOTIONS))]
        insort(self.frames, (at, logs))
        self.sums = [total + log for total, log in zip(self.sums, logs, strict=True)]
        self._forget_before(self.frames[-1][0] - USUAL_S)
        if count < MIN_FRAMES:
            return None
        weights = [math.exp((logs[i] - sums[i] / count) / LOG_UNITS) * REFERENCE[name]
                   for i, name in enumerate(EMOTIONS)]
        return {name: weight / sum(weights) for name, weight in zip(EMOTIONS, weights,
                                                                     strict=True)}

    def _forget_before(self, oldest: float) -> None:
        while self.frames and self.frames[0][0] < oldest:
            _, logs = self.frames.pop(0)
            self.sums = [total - log for total, log in zip(self.sums, logs, strict=True)]


@dataclass
class PersonalReading:
    """What is shown of the personal reading: the personal probabilities of
    :class:`UsualFace`, smoothed and held as the first reading is."""

    usual: UsualFace = field(default_factory=UsualFace)
    reading: LiveReading = field(default_factory=LiveReading)

    def add(self, probabilities: Mapping[str, float], at: float) -> Reading | None:
        """The reading at the newest frame, or None while the usual face is not yet known."""
        personal = self.usual.add(probabilities, at)
        return None if personal is None else self.reading.add(personal, at)


def personal_sql(events: str) -> str:
    """:class:`UsualFace` as a query over ``events`` (a query of emotion_events rows): the
    session_id, participant_id, capture_id, seq and captured_at of each row that has a personal
    reading, with its seven personal probabilities."""
    # Sums over the window include the frame itself, which is then taken out: a window that
    # excludes its current row is summed anew for every row, while these sums move along in one
    # pass. They are numeric, which PostgreSQL can take a leaving row out of, and of one scale
    # (12 decimals), without which it sums the window anew whenever the finest one leaves.
    return f"""
WITH logs AS (
    SELECT e.session_id, e.participant_id, e.capture_id, e.seq, e.captured_at,
           {sql_columns((f"round(ln(greatest(e.{name}, {FLOOR}))::numeric, 12) AS log_{name}"
                         for name in EMOTIONS), 11)}
    FROM ({events}) e
), usual AS (
    SELECT l.*,
           {sql_columns((f"sum(l.log_{name}) OVER b - l.log_{name} AS before_{name}"
                         for name in EMOTIONS), 11)},
           count(*) OVER b - 1 AS frames_before
    FROM logs l
    WINDOW b AS (PARTITION BY l.session_id, l.participant_id ORDER BY l.captured_at
        RANGE BETWEEN interval '{USUAL_S} seconds' PRECEDING AND CURRENT ROW)
), weighted AS (
    SELECT u.session_id, u.participant_id, u.capture_id, u.seq, u.captured_at,
           {sql_columns((f"exp((u.log_{name} - u.before_{name} / u.frames_before)::float8)"
                         f" * {REFERENCE[name]} AS {name}" for name in EMOTIONS), 11)}
    FROM usual u WHERE u.frames_before >= {MIN_FRAMES}
)
SELECT w.session_id, w.participant_id, w.capture_id, w.seq, w.captured_at,
       {sql_columns(f"w.{name} / t.total AS {name}" for name in EMOTIONS)}
FROM weighted w
CROSS JOIN LATERAL (
    SELECT {" + ".join(f"w.{name}" for name in EMOTIONS)} AS total) t"""
