"""Which frames to analyse: at most ``fps`` per second, evenly spaced, each the frame nearest
its due time."""

from __future__ import annotations

# Capture times are exact to about a millisecond; without slack, float sums such as
# 0.4 + 0.2 > 0.6 would skip the frame that lands on the grid.
TOLERANCE_S = 1e-3


class Sampler:
    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"the sampling rate must be positive, got {fps} frames per second")
        self.interval = 1.0 / fps
        self._next: float | None = None
        self._last: float | None = None

    def take(self, t: float) -> bool:
        """True if the frame that came at ``t`` seconds is due for analysis: it is, a little
        before its due time, if the next frame, as far behind it as it came behind the last one,
        would be further past that time. So frames that come about as often as the sampling
        rate, a little unevenly, are all taken rather than every other one."""
        early_by = max(TOLERANCE_S, (t - self._last) / 2) if self._last is not None else 0.0
        self._last = t
        if self._next is not None and t < self._next - early_by:
            return False
        # Stay on the grid so the rate does not drift; after a gap, restart the grid at t.
        self._next = t + self.interval if self._next is None else self._next + self.interval
        if self._next <= t:
            self._next = t + self.interval
        return True
