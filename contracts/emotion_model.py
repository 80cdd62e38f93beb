"""The emotion model as it is served: the worker classifies faces with it, and training exports
it and scores what it exported with the same code, so both see faces the same way.

A served model is ``NAME.tflite`` (run by LiteRT, several times faster per face than Keras on
one CPU core) with ``NAME.json`` beside it (version, output order, input size, calibration
temperature); ``NAME.keras`` next to them is the trainable original they were exported from.
Pixel scaling lives inside the graph, so the only preprocessing outside it is
:func:`to_model_input`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts.labels import EMOTIONS

INPUT_SIZE = 48
MODEL_SHAPE = (INPUT_SIZE, INPUT_SIZE, 1)
OUTPUTS = "logits"  # the worker applies the softmax, with the card's temperature


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
    publictest_accuracy: float | None = None  # on FER2013's own labels
    # Plain accuracy on the FER+ majority labels of PublicTest: how often it agrees with most of
    # ten annotators.
    ferplus_accuracy: float | None = None
    # Divides the logits so that a 70% score is right about 70% of the time.
    temperature: float = 1.0

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        data = json.loads(path.read_text())
        if data.get("outputs") != OUTPUTS:
            raise ValueError(f"{path} describes a model that does not output logits (exported by "
                             "an older econsult); export it again with `econsult export`")
        card = cls(data["version"], tuple(data["labels"]), int(data["input_size"]),
                   data.get("publictest_accuracy"), data.get("ferplus_accuracy"),
                   float(data.get("temperature", 1.0)))
        if sorted(card.labels) != sorted(EMOTIONS):
            raise ValueError(f"{path} lists labels {card.labels}; econsult needs {EMOTIONS}")
        if card.input_size != INPUT_SIZE:
            raise ValueError(f"{path} expects {card.input_size}px faces; this worker crops 48px")
        return card

    def write(self, path: Path, **extra: object) -> None:
        body = {"version": self.version, "labels": list(self.labels),
                "input_size": self.input_size, "publictest_accuracy": self.publictest_accuracy,
                "ferplus_accuracy": self.ferplus_accuracy, "temperature": self.temperature,
                "outputs": OUTPUTS, **extra}
        path.write_text(json.dumps(body, indent=2) + "\n")


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


class EmotionClassifier:
    """Loads a model once and classifies batches of face crops into :data:`EMOTIONS` order."""

    def __init__(self, model_path: str | Path, threads: int = 1,
                 card: ModelCard | None = None) -> None:
        """``card`` overrides the one beside the model (export scores a model before it has one)."""
        model_path = Path(model_path)
        if not model_path.is_file() or model_path.suffix != ".tflite":
            raise FileNotFoundError(
                f"no LiteRT emotion model at {model_path}; set ECONSULT_MODEL_PATH to a .tflite "
                "file or make one with `econsult export`")
        from ai_edge_litert.interpreter import Interpreter

        self.card = card or ModelCard.read(card_path(model_path))
        self.version = self.card.version
        self._interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self._order = [self.card.labels.index(name) for name in EMOTIONS]

    def predict(self, gray_faces: np.ndarray) -> np.ndarray:
        """Probabilities (N, 7), columns in :data:`EMOTIONS` order."""
        if len(gray_faces) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        if len(gray_faces) != self._batch:  # resizing costs well under 0.1 ms
            self._interpreter.resize_tensor_input(self._input, [len(gray_faces), *MODEL_SHAPE])
            self._interpreter.allocate_tensors()
            self._batch = len(gray_faces)
        self._interpreter.set_tensor(self._input, to_model_input(gray_faces))
        self._interpreter.invoke()
        logits = self._interpreter.get_tensor(self._output)
        return softmax(logits / self.card.temperature)[:, self._order]

    def predict_all(self, gray_faces: np.ndarray, batch: int = 256) -> np.ndarray:
        """:meth:`predict` for a whole dataset, ``batch`` faces at a time to bound memory."""
        return np.concatenate([self.predict(gray_faces[start:start + batch])
                               for start in range(0, len(gray_faces), batch)])


def softmax(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax outputs rescaled as if their logits were divided by ``temperature``."""
    if temperature == 1.0:
        return probabilities
    return softmax(np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature)
