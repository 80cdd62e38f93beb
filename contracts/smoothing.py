"""The live reading: one definition of what people are shown of a participant's expressions, in
Python (the room) and in SQL (the live dashboard, the reports, the analysts' view).

Every frame's raw probabilities are stored as the model gave them. What people are shown is
built from them in three steps, each frame with only the frames captured before it:

1. **Smoothed**: the mean of the probabilities over the last :data:`WINDOW_S` seconds of
   capture time (the frame's own included). Its *top* and *second* expressions are its two most
   probable (ties go to the first in :data:`EMOTIONS` order); its *margin* is how far the top
   one leads.
2. **Leading, with hysteresis**: an expression *holds* at a frame when it was the top of every
   frame of the last :data:`HOLD_S` seconds, each time by at least :data:`CLEAR_MARGIN`. The
   leading expression is the one that held most recently, within :data:`MEMORY_S` seconds: it
   changes only when another leads clearly and for long enough, so a face between two
   expressions does not make the label alternate.
3. **Doubt**: the reading is *unclear* when the top expression of the mean leads by less than
   :data:`CLEAR_MARGIN`, or nothing held lately. It is then shown as "unclear: A or B" (the top
   two), never as one label the model is not sure of.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contracts.labels import EMOTIONS

WINDOW_S = 2.0
CLEAR_MARGIN = 0.10
HOLD_S = 0.5
MEMORY_S = 30.0
# How far back the reading at a frame looks: older frames cannot change it.
HISTORY_S = WINDOW_S + HOLD_S + MEMORY_S


@dataclass(frozen=True)
class Reading:
    """What is shown at one frame."""

    probabilities: dict[str, float]  # smoothed
    top: str
    second: str
    margin: float
    leading: str | None  # None when nothing held within MEMORY_S

    @property
    def unclear(self) -> bool:
        return self.leading is None or self.margin < CLEAR_MARGIN

    def words(self) -> str:
        """``happy``, or ``unclear: surprise or fear``."""
        return f"unclear: {self.top} or {self.second}" if self.unclear else str(self.leading)


@dataclass
class _Frame:
    at: float
    probabilities: list[float]
    mean: list[float] = field(default_factory=list)
    top: int = 0
    second: int = 0
    margin: float = 0.0
    held: str | None = None


@dataclass
class LiveReading:
    """One participant's reading, fed their frames' probabilities as they are stored (two
    workers may store them a little out of capture order)."""

    frames: list[_Frame] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # the frames' capture times

    def add(self, probabilities: Mapping[str, float], at: float) -> Reading:
        """What is shown at the newest frame once the frame captured at ``at`` (seconds) is in."""
        index = bisect_right(self.times, at)
        self.frames.insert(index, _Frame(at, [probabilities[name] for name in EMOTIONS]))
        self.times.insert(index, at)
        # A frame changes the means of the next WINDOW_S, and what held over HOLD_S after them.
        for frame in self._between(at, at + WINDOW_S):
            self._smooth(frame)
        for frame in self._between(at, at + WINDOW_S + HOLD_S):
            self._hold(frame)
        while self.times[0] < self.times[-1] - HISTORY_S:
            self.frames.pop(0)
            self.times.pop(0)
        return self._reading()

    def _between(self, start: float, end: float) -> list[_Frame]:
        """The frames captured from ``start`` to ``end``, both included."""
        return self.frames[bisect_left(self.times, start):bisect_right(self.times, end)]

    def _smooth(self, frame: _Frame) -> None:
        window = [f.probabilities for f in self._between(frame.at - WINDOW_S, frame.at)]
        frame.mean = [sum(column) / len(window) for column in zip(*window, strict=True)]
        frame.top, frame.second = sorted(range(len(EMOTIONS)), key=lambda i: -frame.mean[i])[:2]
        frame.margin = frame.mean[frame.top] - frame.mean[frame.second]

    def _hold(self, frame: _Frame) -> None:
        recent = self._between(frame.at - HOLD_S, frame.at)
        clear = all(f.top == frame.top and f.margin >= CLEAR_MARGIN for f in recent)
        frame.held = EMOTIONS[frame.top] if clear else None

    def _reading(self) -> Reading:
        newest = self.frames[-1]
        return Reading(dict(zip(EMOTIONS, newest.mean, strict=True)), EMOTIONS[newest.top],
                       EMOTIONS[newest.second], newest.margin, self._leading(newest.at))

    def _leading(self, now: float) -> str | None:
        """What held most recently within MEMORY_S of ``now``."""
        return next((f.held for f in reversed(self._between(now - MEMORY_S, now))
                     if f.held is not None), None)


def leading(probabilities: Mapping[str, float]) -> str:
    """The most probable expression; a tie goes to the first in :data:`EMOTIONS` order."""
    return max(EMOTIONS, key=lambda name: (probabilities[name], -EMOTIONS.index(name)))


def sql_columns(columns: Iterable[str], indent: int = 7) -> str:
    """Columns of a SELECT, one a line (analysts read these queries in the views)."""
    return f",\n{' ' * indent}".join(columns)


def _window(name: str, seconds: float, rows: str) -> str:
    return (f"{name} AS (PARTITION BY {rows}.session_id, {rows}.participant_id\n"
            f"        ORDER BY {rows}.captured_at\n"
            f"        RANGE BETWEEN interval '{seconds} seconds' PRECEDING AND CURRENT ROW)")


def readings_sql(events: str) -> str:
    """:class:`LiveReading` as a query over ``events`` (a query of emotion_events rows): each
    row's session_id, participant_id, capture_id, seq and captured_at with what was shown at it:
    the seven smoothed probabilities, ``top_expression``, ``second_expression``, ``margin``,
    ``leading_expression`` (NULL when nothing held), ``unclear`` and ``shown`` (its words)."""
    names = ", ".join(f"'{name}'" for name in EMOTIONS)
    values = ", ".join(f"s.{name}" for name in EMOTIONS)
    return f"""
WITH smoothed AS (
    SELECT e.session_id, e.participant_id, e.capture_id, e.seq, e.captured_at,
           {sql_columns((f"avg(e.{name}) OVER w AS {name}" for name in EMOTIONS), 11)}
    FROM ({events}) e
    WINDOW {_window("w", WINDOW_S, "e")}
), ranked AS (
    SELECT s.*, t.o[1] AS top_expression, t.o[2] AS second_expression,
           t.p[1] - t.p[2] AS margin
    FROM smoothed s CROSS JOIN LATERAL (
        SELECT array_agg(u.name ORDER BY u.p DESC, u.i) AS o,
               array_agg(u.p ORDER BY u.p DESC, u.i) AS p
        FROM unnest(ARRAY[{names}],
                    ARRAY[{values}])
             WITH ORDINALITY AS u(name, p, i)) t
), held AS (
    SELECT r.*,
           CASE WHEN bool_and(r.margin >= {CLEAR_MARGIN}) OVER h
                 AND min(r.top_expression) OVER h = max(r.top_expression) OVER h
                THEN r.top_expression END AS held
    FROM ranked r
    WINDOW {_window("h", HOLD_S, "r")}
), remembered AS (
    -- A window aggregate takes its rows in the window's order: the array's last is the newest.
    SELECT l.*, array_agg(l.held) FILTER (WHERE l.held IS NOT NULL) OVER m AS recent
    FROM held l
    WINDOW {_window("m", MEMORY_S, "l")}
), shown AS (
    SELECT m.*, m.recent[cardinality(m.recent)] AS leading,
           m.recent IS NULL OR m.margin < {CLEAR_MARGIN} AS unclear
    FROM remembered m
)
SELECT x.session_id, x.participant_id, x.capture_id, x.seq, x.captured_at,
       {sql_columns(f"x.{name}" for name in EMOTIONS)},
       x.top_expression::emotion, x.second_expression::emotion, x.margin,
       x.leading::emotion AS leading_expression, x.unclear,
       CASE WHEN x.unclear THEN 'unclear: ' || x.top_expression || ' or ' || x.second_expression
            ELSE x.leading END AS shown
FROM shown x"""
