"""The emotion classifier as the worker serves it, and the preprocessing training shares with it.

A model is two files side by side: ``NAME.keras`` (weights and graph) and ``NAME.json`` (its
version, the order of its outputs and its input size). Pixel scaling lives inside the graph,
so the only preprocessing outside it is :func:`to_model_input`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts.labels import EMOTIONS

INPUT_SIZE = 48


def to_model_input(gray_faces: np.ndarray) -> np.ndarray:
    """Grayscale face crops (N, 48, 48) uint8 → the model's input (N, 48, 48, 1) float32.

    Training calls this on FER2013's 48x48 crops and the worker on its own crops, so both see
    faces the same way.
    """
    if gray_faces.ndim != 3 or gray_faces.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"expected grayscale faces of shape (N, 48, 48), got {gray_faces.shape}")
    return gray_faces.astype(np.float32)[..., np.newaxis]


@dataclass(frozen=True)
class ModelCard:
    """What the worker must know about a saved model beyond its weights."""

    version: str
    labels: tuple[str, ...]
    input_size: int
    publictest_accuracy: float | None = None
    # Divides the log-probabilities so that a 70% score is right about 70% of the time.
    temperature: float = 1.0

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        data = json.loads(path.read_text())
        card = cls(data["version"], tuple(data["labels"]), int(data["input_size"]),
                   data.get("publictest_accuracy"), float(data.get("temperature", 1.0)))
        if sorted(card.labels) != sorted(EMOTIONS):
            raise ValueError(f"{path} lists labels {card.labels}; econsult needs {EMOTIONS}")
        if card.input_size != INPUT_SIZE:
            raise ValueError(f"{path} expects {card.input_size}px faces; this worker crops 48px")
        return card

    def write(self, path: Path, **extra: object) -> None:
        body = {"version": self.version, "labels": list(self.labels),
                "input_size": self.input_size, "publictest_accuracy": self.publictest_accuracy,
                "temperature": self.temperature, **extra}
        path.write_text(json.dumps(body, indent=2) + "\n")


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


class EmotionClassifier:
    """Loads a model once and classifies batches of face crops into :data:`EMOTIONS` order."""

    def __init__(self, model_path: str | Path, threads: int | None = None) -> None:
        model_path = Path(model_path)
        if not model_path.exists():
            raise FileNotFoundError(
                f"no emotion model at {model_path}; set ECONSULT_MODEL_PATH or run `econsult train`"
            )
        import keras  # imported here so that modules which only preprocess stay light
        import tensorflow as tf

        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)

        self.card = ModelCard.read(card_path(model_path))
        self.version = self.card.version
        self._model = keras.saving.load_model(model_path, compile=False)
        self._order = [self.card.labels.index(name) for name in EMOTIONS]

    def predict(self, gray_faces: np.ndarray) -> np.ndarray:
        """Probabilities (N, 7), columns in :data:`EMOTIONS` order."""
        if len(gray_faces) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        probabilities = np.asarray(self._model.predict_on_batch(to_model_input(gray_faces)))
        return with_temperature(probabilities, self.card.temperature)[:, self._order]


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax outputs rescaled as if their logits were divided by ``temperature``."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    scaled = np.exp(logits - logits.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)
