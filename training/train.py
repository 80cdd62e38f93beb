"""``econsult train``: fit the emotion model to the FER+ votes on FER2013 Training's faces, made
to look as a webcam shows them, and select on balanced accuracy over PublicTest's FER+ majorities.

A run checkpoints after every epoch into ``--checkpoints`` so that ``--resume`` continues it in
a later session; the best epoch, or the mean of the weights from ``--average-from`` on where that
scores better, is exported as the model (``--output``).
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
from contracts.emotion_model import EmotionClassifier, to_model_input
from training import data, ferplus
from training.architecture import WIDTHS, build
from training.averaging import HeldCosine, WeightAverage
from training.prior import PriorAdjustedCrossentropy
from training.selection import MONITOR, BalancedAccuracy, balanced_score
from training.views import framings
from training.webcam import WebcamBatches

# A teacher's probabilities carry what ten votes cannot: how a face sits between two
# expressions when only a few annotators saw both.
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
    # Soft targets: each face's votes mixed with the mean probabilities served models give it.
    teachers: Sequence[Path] = ()
    # Starting from a trained model of the same architecture (the shipped one) carries what
    # earlier CPU sessions learned into a new run, as a warm restart of the schedule.
    init: Path | None = None
    # From this epoch (counted from 1) on, the learning rate holds and the weights each epoch
    # ends with are averaged; the mean is exported if it beats the best epoch.
    average_from: int | None = None


def train(config: TrainConfig) -> float:
    """Train, export the best epoch (or weight average), and return its balanced accuracy."""
    # What cannot be used is refused before the faces are loaded and the teachers run over them.
    _check_average_from(config)
    if config.init and not config.init.is_file():
        raise CommandError(f"{config.init} does not exist; --init takes a .keras model file")
    teachers = [_served(path) for path in config.teachers]
    keras.utils.set_random_seed(config.seed)
    train_set = ferplus.load(data.TRAINING, ferplus.TRAINING_VOTES)
    val_set = ferplus.load(data.PUBLIC_TEST, ferplus.PUBLIC_TEST_VOTES).with_majority()
    config.checkpoints.mkdir(parents=True, exist_ok=True)
    last, best, average, state_file = (config.checkpoints / name for name in
                                       ("last.keras", "best.keras", "average.keras", "state.json"))
    targets = _targets(train_set, teachers)
    batches = WebcamBatches(train_set.images, targets, config.batch_size, config.seed)
    model, start_epoch = _model(config, targets.mean(0), len(batches), last, state_file)
    callbacks = [
        BalancedAccuracy(val_set),
        keras.callbacks.ModelCheckpoint(best, monitor=MONITOR, mode="max", save_best_only=True,
                                        initial_value_threshold=_state(state_file).get(
                                            "best_score")),
        keras.callbacks.ModelCheckpoint(last),
    ]
    if config.average_from:
        callbacks.append(WeightAverage(config.average_from, average,
                                       to_model_input(train_set.images),
                                       lambda model: balanced_score(model, val_set),
                                       resumed_after=start_epoch))
    callbacks.append(_StateWriter(state_file))
    model.fit(batches, epochs=config.epochs, initial_epoch=start_epoch, callbacks=callbacks,
              verbose=1 if os.isatty(1) else 2)
    chosen, score = _chosen(best, average if config.average_from else None, _state(state_file))
    if keras.backend.backend() != "tensorflow":
        print(f"trained under {keras.backend.backend()}; LiteRT export needs TensorFlow: run "
              f"`econsult export {chosen} --output {config.output}` where it is installed")
        return score
    from training.export import export  # TensorFlow: absent where JAX trains

    return export(chosen, config.output, config.version)


def _check_average_from(config: TrainConfig) -> None:
    if config.average_from is not None and not 1 <= config.average_from <= config.epochs:
        raise CommandError(f"--average-from {config.average_from} is not an epoch of this "
                           f"{config.epochs}-epoch run; give one from 1 to {config.epochs}")


def _model(config: TrainConfig, prior: np.ndarray, steps_per_epoch: int, last: Path,
           state_file: Path) -> tuple[keras.Model, int]:
    """The model to train and the epochs it has done: resumed, warm-started or new."""
    if config.resume and last.exists():
        epoch = _state(state_file)["epoch"]
        print(f"resuming from {last} after epoch {epoch}")
        return keras.saving.load_model(last), epoch
    state_file.unlink(missing_ok=True)  # a new run: an earlier run's best is not this one's
    model = build(config.widths)
    if config.init:
        _start_from(model, config.init)
    steps = config.epochs * steps_per_epoch
    # Averaged weights need a learning rate that holds: the cosine stops where averaging starts.
    hold_from = (config.average_from - 1) * steps_per_epoch if config.average_from else steps
    model.compile(optimizer=keras.optimizers.AdamW(
                      HeldCosine(config.learning_rate, steps, hold_from), weight_decay=1e-4),
                  loss=PriorAdjustedCrossentropy(prior), metrics=["accuracy"])
    return model, 0


def _chosen(best: Path, average: Path | None, state: dict) -> tuple[Path, float]:
    """The better of the best epoch and the weight average, with its balanced accuracy."""
    epoch, averaged = state.get("best_score", 0.0), state.get("average_score")
    if average and averaged is not None and averaged > epoch:
        print(f"the mean of the averaged epochs ({averaged:.2%}) beats the best epoch "
              f"({epoch:.2%}): exporting {average}")
        return average, averaged
    return best, epoch


def _targets(faces: ferplus.VotedFaces, teachers: Sequence[EmotionClassifier]) -> np.ndarray:
    """Each face's share of votes per expression, softened by the teachers' mean if any."""
    if not teachers:
        return faces.shares
    views = framings(faces.images)  # framed once, scored by every teacher
    probabilities = np.mean([_teacher_probabilities(faces, views, teacher)
                             for teacher in teachers], axis=0)
    return (1 - TEACHER_SHARE) * faces.shares + TEACHER_SHARE * probabilities


def _served(teacher: Path) -> EmotionClassifier:
    try:
        return EmotionClassifier(teacher, threads=os.cpu_count() or 1)
    except FileNotFoundError as exc:
        raise CommandError(f"{exc}; --teacher takes a served model") from None


def _teacher_probabilities(faces: ferplus.VotedFaces, views: list[np.ndarray],
                           teacher: EmotionClassifier) -> np.ndarray:
    probabilities = np.mean([teacher.predict_all(view) for view in views], axis=0)
    agreement = np.mean(probabilities.argmax(1) == faces.shares.argmax(1))
    print(f"teacher {teacher.version} agrees with {agreement:.1%} of the votes' favourites")
    return probabilities


def _start_from(model: keras.Model, trained: Path) -> None:
    try:
        model.set_weights(keras.saving.load_model(trained, compile=False).get_weights())
    except ValueError as exc:
        raise CommandError(f"{trained} is not a model of the architecture being trained ({exc}); "
                         "train without --init, or pass a model that `econsult train` made"
                         ) from None
    print(f"starting from the weights of {trained}")


def _state(state_file: Path) -> dict:
    return json.loads(state_file.read_text()) if state_file.exists() else {}


class _StateWriter(keras.callbacks.Callback):
    """Records the finished epoch and the best scores so that --resume can continue."""

    def __init__(self, state_file: Path) -> None:
        super().__init__()
        self.state_file = state_file

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        state = _state(self.state_file)
        state.update(epoch=epoch + 1, best_score=max(state.get("best_score", 0.0),
                                                     logs.get(MONITOR, 0.0)))
        if "val_average_score" in logs:  # the mean so far, over every averaged epoch
            state["average_score"] = logs["val_average_score"]
        self.state_file.write_text(json.dumps(state))
