"""``econsult evaluate``: plain, balanced and per-class accuracy and a confusion matrix on any npz
in FER2013's layout, against its own labels or, given ``--votes``, the FER+ majority of the
annotators' votes (the held-back PrivateTest split is measured this way)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cli import CommandError
from contracts.emotion_model import EmotionClassifier
from contracts.labels import EMOTIONS
from training import data, ferplus
from training.calibration import expected_calibration_error
from training.confusion_png import write_confusion_png


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Rows: true emotion, columns: predicted, both in EMOTIONS order."""
    matrix = np.zeros((len(EMOTIONS), len(EMOTIONS)), np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def evaluate(data_path: Path, model_path: Path, confusion_png: Path | None = None,
             votes_path: Path | None = None) -> int:
    try:
        faces = data.load(data_path)
        if votes_path:
            voted = ferplus.load(data_path, votes_path).with_majority()
            faces = data.FaceSet(voted.images, voted.majority)
        classifier = EmotionClassifier(model_path)
    except (data.DatasetError, FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    if faces.images.shape[1:] != (48, 48):
        raise CommandError(f"{data_path} holds {faces.images.shape[1:]} images; expected 48x48")
    probabilities = classifier.predict_all(faces.images)
    labels = f"FER+ majority labels of {votes_path.name}" if votes_path else "its own labels"
    title = f"{classifier.version} on {data_path.name}, {labels}"
    print(report(faces.labels, probabilities, title))
    if confusion_png:
        matrix = confusion_matrix(faces.labels, probabilities.argmax(1))
        write_confusion_png(matrix, confusion_png, title)
        print(f"\nconfusion matrix drawn in {confusion_png}")
    return 0


def report(truth: np.ndarray, probabilities: np.ndarray, title: str) -> str:
    predicted = probabilities.argmax(1)
    matrix = confusion_matrix(truth, predicted)
    ece = expected_calibration_error(probabilities, truth)
    lines = [f"{title}: accuracy {np.mean(truth == predicted):.2%} on {len(truth)} faces, "
             f"balanced {ferplus.balanced_accuracy(truth, predicted):.2%}",
             f"expected calibration error {ece:.3f}", "",
             f"{'emotion':<10} {'faces':>6} {'accuracy':>9}"]
    for index, emotion in enumerate(EMOTIONS):
        count = matrix[index].sum()
        accuracy = f"{matrix[index, index] / count:.1%}" if count else "-"
        lines.append(f"{emotion:<10} {count:>6} {accuracy:>9}")
    lines += ["", "confusion (rows: true, columns: predicted)",
              " " * 10 + "".join(f"{e[:7]:>8}" for e in EMOTIONS)]
    lines += [f"{e:<10}" + "".join(f"{n:>8}" for n in row)
              for e, row in zip(EMOTIONS, matrix, strict=True)]
    return "\n".join(lines)
