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
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter

from contracts.labels import EMOTIONS
from contracts.smoothing import LiveReading, Reading, sql_columns

USUAL_S = 300.0
# How late a frame may be stored and still be compared with exactly the frames captured in the
# USUAL_S before it, as the SQL does (a worker that stalls for longer delays its frames by more).
LATE_S = 60.0
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
    """One participant's recent faces, fed as their frames are stored (two workers store them a
    little out of capture order)."""

    # (capture time, the logs of its probabilities in LOG_UNITS), in capture order: those of the
    # USUAL_S before the newest, from ``start`` on, whose logs ``sums`` adds up, and before them
    # those of the LATE_S before that, which a frame stored late still counts. The sums are in
    # whole units, which add and take away exactly however long the session (a float sum would
    # drift).
    frames: list[tuple[float, list[int]]] = field(default_factory=list)
    start: int = 0
    sums: list[int] = field(default_factory=lambda: [0] * len(EMOTIONS))

    def add(self, probabilities: Mapping[str, float], at: float) -> dict[str, float] | None:
        """The personal probabilities of the frame captured at ``at`` (seconds), or None while
        fewer than :data:`MIN_FRAMES` of the person's frames came before it."""
        logs = [round(math.log(max(probabilities[name], FLOOR)) * LOG_UNITS) for name in EMOTIONS]
        self._window_from(at - USUAL_S)  # moves only for a frame after all the others
        count, sums = self._before(at)
        index = bisect_right(self.frames, at, key=_time)
        self.frames.insert(index, (at, logs))
        if index < self.start:  # over USUAL_S late: before the newest's window
            self.start += 1
        else:
            self.sums = [total + log for total, log in zip(self.sums, logs, strict=True)]
        self._window_from(self.frames[-1][0] - USUAL_S)
        if count < MIN_FRAMES:
            return None
        weights = [math.exp((logs[i] - sums[i] / count) / LOG_UNITS) * REFERENCE[name]
                   for i, name in enumerate(EMOTIONS)]
        total = sum(weights)
        return {name: weight / total for name, weight in zip(EMOTIONS, weights, strict=True)}

    def _before(self, at: float) -> tuple[int, list[int]]:
        """How many frames were captured in the USUAL_S before ``at``, and their logs' sums: the
        window's, less the frames captured after ``at``, plus those kept from before the window
        that are not too old for it. Both are as few as the frame is late."""
        after = self.frames[bisect_left(self.frames, at, lo=self.start, key=_time):]
        earlier = self.frames[bisect_left(self.frames, at - USUAL_S, hi=self.start, key=_time):
                              self.start]
        sums = self.sums
        for _, logs in after:
            sums = [total - log for total, log in zip(sums, logs, strict=True)]
        for _, logs in earlier:
            sums = [total + log for total, log in zip(sums, logs, strict=True)]
        return len(self.frames) - self.start - len(after) + len(earlier), sums

    def _window_from(self, oldest: float) -> None:
        """The newest's window starts at ``oldest``; frames over LATE_S older are forgotten."""
        while self.start < len(self.frames) and self.frames[self.start][0] < oldest:
            self.sums = [total - log for total, log
                         in zip(self.sums, self.frames[self.start][1], strict=True)]
            self.start += 1
        forgotten = bisect_left(self.frames, oldest - LATE_S, hi=self.start, key=_time)
        del self.frames[:forgotten]
        self.start -= forgotten


_time = itemgetter(0)  # a frame's capture time, where bisect looks it up


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
