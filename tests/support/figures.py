"""Figures a test measured (never asserted: timing targets live in bench/), kept beside the
screenshots in artifacts/ for the notes."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def record(name: str, figures: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.txt").write_text(figures.strip() + "\n")
