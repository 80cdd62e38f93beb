"""How numbers read on every page: a dash where there is nothing to show."""

from __future__ import annotations

NONE = "–"


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value:.0%}"


def whole(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f}"
