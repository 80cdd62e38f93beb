"""``econsult train``: fit the emotion model on FER2013 Training, select on PublicTest.

A run checkpoints after every epoch into ``--checkpoints`` so that ``--resume`` continues it in
a later session; the best epoch on PublicTest is exported next to the worker as the model.
It runs unchanged under JAX (``KERAS_BACKEND=jax``) on a GPU; export then happens separately.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from cli import CommandError
from contracts.labels import EMOTIONS
from training import data
from training.architecture import WIDTHS, build
from training.export import export
from worker.emotion_model import EmotionClassifier, to_model_input

# A teacher's calibrated probabilities carry what FER2013's single labels cannot: a face that
# is half fear, half surprise, or a label that is plainly wrong (~10% of the set).
TEACHER_SHARE = 0.5


@dataclass(frozen=True)
class TrainConfig:
    version: str  # stored with every event the model scores
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 1
    checkpoints: Path = Path("checkpoints")
    output: Path = Path("worker/weights/emotion.tflite")
    resume: bool = False
    widths: tuple[int, ...] = WIDTHS
    # Soft targets: each label mixed with the mean probabilities served models give the face.
    teachers: Sequence[Path] = ()
    # Starting from a trained model of the same architecture (the shipped one) carries what
    # earlier CPU sessions learned into a new run, as a warm restart of the schedule.
    init: Path | None = None


def train(config: TrainConfig) -> float:
    """Train, export the best epoch, and return its PublicTest accuracy."""
    keras.utils.set_random_seed(config.seed)
    train_set, val_set = data.load(data.TRAINING), data.load(data.PUBLIC_TEST)
    x_train, x_val = to_model_input(train_set.images), to_model_input(val_set.images)
    config.checkpoints.mkdir(parents=True, exist_ok=True)
    last, best, state_file = (config.checkpoints / name for name in
                              ("last.keras", "best.keras", "state.json"))

    start_epoch = 0
    if config.resume and last.exists():
        model = keras.saving.load_model(last)
        start_epoch = json.loads(state_file.read_text())["epoch"]
        print(f"resuming from {last} after epoch {start_epoch}")
    else:
        model = build(config.widths)
        if config.init:
            _start_from(model, config.init)
        steps = config.epochs * -(-len(train_set) // config.batch_size)
        schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps, alpha=0.02)
        model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
                      loss="categorical_crossentropy", metrics=["accuracy"])

    callbacks = [
        keras.callbacks.ModelCheckpoint(best, monitor="val_accuracy", save_best_only=True,
                                        initial_value_threshold=_best_so_far(state_file)),
        keras.callbacks.ModelCheckpoint(last),
        _StateWriter(state_file),
    ]
    targets = _targets(train_set, config.teachers)
    model.fit(x_train, targets, batch_size=config.batch_size, epochs=config.epochs,
              initial_epoch=start_epoch, validation_data=(x_val, _one_hot(val_set.labels)),
              callbacks=callbacks, verbose=1 if os.isatty(1) else 2)
    if keras.backend.backend() != "tensorflow":
        print(f"trained under {keras.backend.backend()}; LiteRT export needs TensorFlow: run "
              f"`econsult export {best} --output {config.output}` where it is installed")
        return float(_best_so_far(state_file) or 0.0)
    return export(best, config.output, config.version)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(len(EMOTIONS), dtype=np.float32)[labels]


def _targets(faces: data.FaceSet, teachers: Sequence[Path]) -> np.ndarray:
    """The labels as one-hot rows, softened by the teachers' mean probabilities if any."""
    labels = _one_hot(faces.labels)
    if not teachers:
        return labels
    # Models that err on different faces are right together more often: cnn48x1.5-v2 and
    # cnn48-v5 together scored 68.4% on PublicTest, 0.5 points above the better one alone.
    probabilities = np.mean([_teacher_probabilities(faces, path) for path in teachers], axis=0)
    return (1 - TEACHER_SHARE) * labels + TEACHER_SHARE * probabilities


def _teacher_probabilities(faces: data.FaceSet, teacher: Path) -> np.ndarray:
    try:
        classifier = EmotionClassifier(teacher, threads=os.cpu_count() or 1)
    except FileNotFoundError as exc:
        raise CommandError(f"{exc}; --teacher takes a served model") from None
    probabilities = classifier.predict_all(faces.images)
    agreement = np.mean(probabilities.argmax(1) == faces.labels)
    print(f"teacher {classifier.version} agrees with {agreement:.1%} of the training labels")
    return probabilities


def _start_from(model: keras.Model, trained: Path) -> None:
    if not trained.is_file():
        raise CommandError(f"{trained} does not exist; --init takes a .keras model file")
    try:
        model.set_weights(keras.saving.load_model(trained, compile=False).get_weights())
    except ValueError as exc:
        raise CommandError(f"{trained} is not a model of the architecture being trained ({exc}); "
                         "train without --init, or pass a model that `econsult train` made"
                         ) from None
    print(f"starting from the weights of {trained}")


def _best_so_far(state_file: Path) -> float | None:
    if state_file.exists():
        return json.loads(state_file.read_text()).get("best_val_accuracy")
    return None


class _StateWriter(keras.callbacks.Callback):
    """Records the finished epoch and the best score so that --resume can continue."""

    def __init__(self, state_file: Path) -> None:
        super().__init__()
        self.state_file = state_file

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        score = (logs or {}).get("val_accuracy", 0.0)
        best = max(_best_so_far(self.state_file) or 0.0, score)
        self.state_file.write_text(json.dumps({"epoch": epoch + 1, "best_val_accuracy": best}))
