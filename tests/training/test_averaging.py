"""Stochastic weight averaging: the learning rate holds once averaging starts, the mean of the
epochs' weights is kept (across a resumed run too) and scored, and its batch-norm statistics
are measured anew."""

from __future__ import annotations

import keras
import numpy as np

from training.architecture import build
from training.averaging import HeldCosine, WeightAverage, reestimate_batch_norm


def test_the_learning_rate_follows_the_cosine_then_holds_from_where_averaging_starts():
    schedule = HeldCosine(1e-3, steps=100, hold_from=40)
    rates = [float(schedule(step)) for step in (0, 20, 40, 41, 99, 500)]
    assert rates[0] > rates[1] > rates[2]
    assert rates[2] == rates[3] == rates[4] == rates[5]
    assert np.isclose(rates[2], float(keras.optimizers.schedules.CosineDecay(1e-3, 100,
                                                                             alpha=0.02)(40)))


def test_a_run_with_the_held_schedule_can_be_saved_and_resumed(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.AdamW(HeldCosine(1e-3, 100, 40)), loss="mse")
    model.optimizer.build(model.trainable_variables)  # its moments saved, as after an epoch
    model.save(tmp_path / "last.keras")
    optimizer = keras.saving.load_model(tmp_path / "last.keras").optimizer
    schedule = optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "HeldCosine"
    assert schedule["config"] == {"peak": 1e-3, "steps": 100, "hold_from": 40, "alpha": 0.02}


def test_batch_norm_statistics_are_measured_anew_on_the_faces_given():
    faces = np.random.default_rng(0).normal(3.0, 2.0, (1024, 4)).astype(np.float32)
    layer = keras.layers.BatchNormalization()
    model = keras.Sequential([keras.Input((4,)), layer])
    reestimate_batch_norm(model, faces)
    mean, variance = keras.ops.convert_to_numpy(layer.moving_mean), \
        keras.ops.convert_to_numpy(layer.moving_variance)
    assert np.allclose(mean, faces.mean(0), atol=1e-4)
    assert np.allclose(variance, faces.var(0), rtol=0.02)
    assert layer.momentum == 0.99  # training goes on with its own momentum


def _head(model: keras.Model) -> np.ndarray:
    return model.get_layer("emotion").get_weights()[0]


def _fit(model: keras.Model, callback: WeightAverage, first: int, last: int,
         faces: np.ndarray, labels: np.ndarray) -> tuple[list[np.ndarray], dict]:
    heads: list[np.ndarray] = []
    keep = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: heads.append(_head(model)))
    history = model.fit(faces, np.eye(7)[labels], epochs=last, initial_epoch=first,
                        batch_size=32, verbose=0, callbacks=[keep, callback])
    return heads, history.history


def test_the_average_is_the_mean_of_each_epochs_weights_from_the_first_averaged_one(tmp_path):
    rng = np.random.default_rng(1)
    faces = rng.integers(0, 256, (96, 48, 48, 1)).astype(np.float32)
    labels = rng.integers(0, 7, 96)
    model = build(widths=(8, 16))
    model.compile(optimizer=keras.optimizers.AdamW(1e-2), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    path = tmp_path / "average.keras"

    scored: list[keras.Model] = []

    def score(average: keras.Model) -> float:
        scored.append(average)
        return 0.5

    heads, history = _fit(model, WeightAverage(2, path, faces, score), 0, 3, faces, labels)
    average = keras.saving.load_model(path, compile=False)
    assert np.allclose(_head(average), np.mean(heads[1:], axis=0), atol=1e-6)
    assert history["val_average_score"] == [0.5, 0.5]  # epochs 2 and 3 only, the mean scored
    assert np.allclose(_head(scored[-1]), _head(average))

    # Resumed after epoch 3, the run goes on from the saved mean of epochs 2 and 3.
    resumed = WeightAverage(2, path, faces, score, resumed_after=3)
    more, _ = _fit(model, resumed, 3, 4, faces, labels)
    average = keras.saving.load_model(path, compile=False)
    assert np.allclose(_head(average), np.mean(heads[1:] + more, axis=0), atol=1e-6)
