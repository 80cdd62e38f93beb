"""Calibration: the error measures the gap between confidence and accuracy, and the fitted
temperature closes it without changing any prediction."""

from __future__ import annotations

import numpy as np

from contracts.emotion_model import with_temperature
from training.calibration import expected_calibration_error, fit_temperature


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 7-class model right 60% of the time that says 95% every time."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n)
    predicted = np.where(rng.random(n) < 0.6, labels, (labels + rng.integers(1, 7, n)) % 7)
    probabilities = np.full((n, 7), 0.05 / 6)
    probabilities[np.arange(n), predicted] = 0.95
    return probabilities, labels


def test_an_overconfident_model_has_a_large_calibration_error():
    probabilities, labels = _overconfident()
    assert abs(expected_calibration_error(probabilities, labels) - (0.95 - 0.6)) < 0.03


def test_the_fitted_temperature_softens_it_to_its_real_accuracy():
    probabilities, labels = _overconfident()
    temperature = fit_temperature(probabilities, labels)
    scaled = with_temperature(probabilities, temperature)
    assert temperature > 1
    assert expected_calibration_error(scaled, labels) < 0.03
    assert (scaled.argmax(1) == probabilities.argmax(1)).all()
    assert np.allclose(scaled.sum(1), 1)
