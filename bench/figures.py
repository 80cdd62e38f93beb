"""A benchmark's figure printed beside the issue's target for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    limit: float
    at_most: bool  # the figure must not exceed ``limit`` (else not fall below it)

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


@dataclass(frozen=True)
class Figure:
    name: str
    shown: str  # the value, as printed
    target: str = ""  # the target, as printed
    met: bool | None = None  # None: no target


def measured(name: str, value: float, form: str, target: Target | None = None) -> Figure:
    """A figure shown with ``form`` (a format spec), its target in the same form."""
    if target is None:
        return Figure(name, format(value, form))
    bound = f"{'≤' if target.at_most else '≥'} {format(target.limit, form)}"
    return Figure(name, format(value, form), bound, target.met(value))
