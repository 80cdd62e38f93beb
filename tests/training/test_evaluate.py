"""`econsult evaluate` measures the shipped model on any npz in FER2013's layout."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from contracts.labels import EMOTIONS
from training import data

FACES = 300


def _evaluate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "evaluate", *args], env=os.environ,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def public_subset(tmp_path_factory):
    faces = data.load(data.PUBLIC_TEST)
    path = tmp_path_factory.mktemp("npz") / "subset.npz"
    np.savez(path, images=faces.images[:FACES], labels=faces.labels[:FACES].astype(np.uint8),
             classes=np.array(EMOTIONS))
    return path


def _accuracy(output: str) -> float:
    return float(re.search(r"accuracy ([\d.]+)% on (\d+) faces", output).group(1))


def test_it_prints_accuracy_per_class_and_a_confusion_matrix(public_subset):
    result = _evaluate("--data", str(public_subset))
    assert result.returncode == 0, result.stderr
    assert f"on {FACES} faces" in result.stdout
    assert 40 <= _accuracy(result.stdout) <= 100
    for emotion in EMOTIONS:
        assert re.search(rf"^{emotion}\s+\d+\s+([\d.]+%|-)$", result.stdout, re.M)
    matrix = [line.split()[1:] for line in result.stdout.splitlines()[-len(EMOTIONS):]]
    assert sum(int(n) for row in matrix for n in row) == FACES


def test_a_file_listing_classes_in_another_order_gives_the_same_accuracy(public_subset, tmp_path):
    original = np.load(public_subset)
    order = list(reversed(EMOTIONS))
    relabelled = np.array([order.index(EMOTIONS[i]) for i in original["labels"]], np.uint8)
    path = tmp_path / "reordered.npz"
    np.savez(path, images=original["images"], labels=relabelled, classes=np.array(order))
    assert _accuracy(_evaluate("--data", str(path)).stdout) == _accuracy(
        _evaluate("--data", str(public_subset)).stdout)


def test_a_file_in_another_layout_is_refused_clearly(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.zeros((2, 48, 48), np.uint8))
    result = _evaluate("--data", str(path))
    assert result.returncode == 2
    assert "lacks classes, images, labels; expected FER2013's layout" in result.stderr


def test_it_can_draw_the_confusion_matrix_for_the_model_card(public_subset, tmp_path):
    import cv2

    picture = tmp_path / "card" / "confusion.png"
    result = _evaluate("--data", str(public_subset), "--confusion-png", str(picture))
    assert result.returncode == 0, result.stderr
    image = cv2.imread(str(picture))
    assert image is not None and image.shape[0] > 400 and image.shape[1] > 400
