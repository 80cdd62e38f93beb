"""How a run's epochs are compared: balanced accuracy on FER+ majority labels of PublicTest.

Balanced, because FER+ majorities are a third neutral: plain accuracy rewards leaning to neutral,
and real faces punish it. Each face is scored with its mirror image, as the served model does.
"""

from __future__ import annotations

import keras
import numpy as np

from contracts.emotion_model import to_model_input
from training.ferplus import VotedFaces, balanced_accuracy

MONITOR = "val_balanced_accuracy"


def mirrored_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """``model``'s probabilities for grayscale faces (N, 48, 48), averaged with their mirrors."""
    faces = to_model_input(images)
    return (model.predict(faces, batch_size=512, verbose=0)
            + model.predict(faces[:, :, ::-1], batch_size=512, verbose=0)) / 2


def balanced_score(model: keras.Model, faces: VotedFaces) -> float:
    return balanced_accuracy(faces.majority, mirrored_probabilities(model, faces.images).argmax(1))


class BalancedAccuracy(keras.callbacks.Callback):
    """Logs each epoch's balanced and plain accuracy on ``faces`` (those with a majority)."""

    def __init__(self, faces: VotedFaces) -> None:
        super().__init__()
        self.faces = faces

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        predicted = mirrored_probabilities(self.model, self.faces.images).argmax(1)
        balanced = balanced_accuracy(self.faces.majority, predicted)
        plain = float(np.mean(predicted == self.faces.majority))
        if logs is not None:
            logs[MONITOR], logs["val_plain_accuracy"] = balanced, plain
        print(f"epoch {epoch + 1}: FER+ PublicTest balanced accuracy {balanced:.2%}, "
              f"plain {plain:.2%}")
