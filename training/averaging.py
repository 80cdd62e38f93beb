"""Stochastic weight averaging (Izmailov et al., 2018) for ``econsult train --average-from N``.

At a held learning rate the weights wander about a wide optimum; the mean of the weights the
run ends its epochs with lies nearer its centre and scores better than any one of them. The
mean's batch-norm statistics belong to none of the averaged models, so they are measured anew.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

# Enough faces to measure each batch-norm layer's mean and variance; a few seconds a pass.
BATCH_NORM_FACES = 8192
BATCH_NORM_BATCH = 256


@keras.saving.register_keras_serializable(package="econsult")
class HeldCosine(keras.optimizers.schedules.LearningRateSchedule):
    """A cosine decay over ``steps`` that holds its value from step ``hold_from`` on."""

    def __init__(self, peak: float, steps: int, hold_from: int, alpha: float = 0.02) -> None:
        self.peak, self.steps, self.hold_from, self.alpha = peak, steps, hold_from, alpha
        self.cosine = keras.optimizers.schedules.CosineDecay(peak, steps, alpha=alpha)

    def __call__(self, step):  # a backend tensor
        return self.cosine(keras.ops.minimum(step, self.hold_from))

    def get_config(self) -> dict:
        return {"peak": self.peak, "steps": self.steps, "hold_from": self.hold_from,
                "alpha": self.alpha}


def reestimate_batch_norm(model: keras.Model, faces: np.ndarray) -> None:
    """Set every batch-norm layer's statistics to their mean over ``faces`` (model inputs)."""
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for index, start in enumerate(range(0, len(faces), BATCH_NORM_BATCH)):
        for layer in layers:  # a cumulative mean: batch n weighs 1/n
            layer.momentum = index / (index + 1)
        model(faces[start:start + BATCH_NORM_BATCH], training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


class WeightAverage(keras.callbacks.Callback):
    """From epoch ``start`` (counted from 1) on, keeps the mean of each epoch's final weights in
    ``path`` and logs its ``score`` (the run's selection measure) as ``val_average_score``."""

    def __init__(self, start: int, path: Path, train_faces: np.ndarray,
                 score: Callable[[keras.Model], float], resumed_after: int = 0) -> None:
        super().__init__()
        self.start, self.path, self.score = start, path, score
        self.count = max(0, resumed_after - start + 1)  # epochs already in the saved mean
        rng = np.random.default_rng(start)
        self.faces = train_faces[rng.permutation(len(train_faces))[:BATCH_NORM_FACES]]

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.average = keras.models.clone_model(self.model)
        if self.count:
            self.average.set_weights(keras.saving.load_model(self.path, compile=False)
                                     .get_weights())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 < self.start:
            return
        self.count += 1  # a running mean: the first epoch's weights replace the clone's
        self.average.set_weights([mean + (new - mean) / self.count for mean, new in
                                  zip(self.average.get_weights(), self.model.get_weights(),
                                      strict=True)])
        reestimate_batch_norm(self.average, self.faces)
        self.average.save(self.path)
        score = self.score(self.average)
        if logs is not None:
            logs["val_average_score"] = score
        print(f"mean of {self.count} epochs' weights: {score:.4f}")
