"""Which frames to analyse: at most ``fps`` per second of capture time, evenly spaced."""

from __future__ import annotations


class Sampler:
    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"the sampling rate must be positive, got {fps} frames per second")
        self.interval = 1.0 / fps
        self._next: float | None = None

    def take(self, t: float) -> bool:
        """True if the frame captured at ``t`` seconds is due for analysis."""
        if self._next is not None and t < self._next:
            return False
        # Stay on the grid after a gap, but never fall behind by more than one interval.
        self._next = t + self.interval if self._next is None else max(
            self._next + self.interval, t)
        return True
