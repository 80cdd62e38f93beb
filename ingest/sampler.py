"""Which frames to analyse: at most ``fps`` per second of capture time, evenly spaced."""

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

    def take(self, t: float) -> bool:
        """True if the frame captured at ``t`` seconds is due for analysis."""
        if self._next is not None and t < self._next - TOLERANCE_S:
            return False
        # Stay on the grid so the rate does not drift; after a gap, restart the grid at t.
        self._next = t + self.interval if self._next is None else self._next + self.interval
        if self._next <= t:
            self._next = t + self.interval
        return True
