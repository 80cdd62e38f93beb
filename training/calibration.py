"""How far the model's confidence can be trusted, and the temperature that makes it honest.

A manager reads a probability as confidence: of the faces scored 0.7, about 70% should be
right. The expected calibration error (ECE) measures the gap; temperature scaling (Guo et al.,
2017) fits one number on PublicTest that closes most of it without changing any prediction.
"""

from __future__ import annotations

import numpy as np

from contracts.emotion_model import with_temperature

BINS = 15


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    bins = np.minimum((confidence * BINS).astype(int), BINS - 1)
    error = 0.0
    for index in range(BINS):
        members = bins == index
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``labels``."""
    candidates = np.exp(np.linspace(np.log(0.25), np.log(4.0), 241))
    return float(min(candidates, key=lambda t: _nll(with_temperature(probabilities, t), labels)))


def _nll(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels],
                                         1e-12, None))))
