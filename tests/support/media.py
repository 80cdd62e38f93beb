"""Labelled real faces the repository carries (see bench/media/london/README.md)."""

from pathlib import Path

LONDON = Path(__file__).resolve().parents[2] / "bench" / "media" / "london"
