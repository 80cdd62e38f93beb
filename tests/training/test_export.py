"""`econsult export` turns a checkpoint into the served model: the LiteRT file gives the
calibrated probabilities of the Keras original, with a card the worker can read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from contracts.emotion_model import EmotionClassifier
from contracts.labels import EMOTIONS
from training import data

SHIPPED = Path(__file__).resolve().parents[2] / "worker" / "weights" / "emotion.keras"


def test_a_checkpoint_becomes_a_served_model_with_its_card(tmp_path):
    output = tmp_path / "exported.tflite"
    result = subprocess.run([sys.executable, "-m", "cli.main", "export", str(SHIPPED),
                             "--output", str(output), "--version", "test-v9"],
                            env=os.environ, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    card = json.loads(output.with_suffix(".json").read_text())
    assert (card["version"], card["labels"]) == ("test-v9", list(EMOTIONS))
    assert 0.5 < card["publictest_accuracy"] < 1 and card["temperature"] > 0
    assert 0.5 < card["ferplus_accuracy"] < 1 and 0.5 < card["ferplus_balanced_accuracy"] < 1
    assert output.with_suffix(".keras").is_file()

    classifier = EmotionClassifier(output)
    faces = data.load(data.PUBLIC_TEST).images[:64]
    probabilities = classifier.predict(faces)
    assert classifier.version == "test-v9"
    assert probabilities.shape == (64, 7)
    assert np.allclose(probabilities.sum(1), 1, atol=1e-5)
    # Served as the mean over the face and its mirror image: both read the same.
    assert np.allclose(classifier.predict(faces[:, :, ::-1]), probabilities, atol=1e-5)


def test_the_worker_refuses_a_model_it_cannot_serve_and_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"set ECONSULT_MODEL_PATH to a \.tflite file"):
        EmotionClassifier(SHIPPED)


def test_a_model_exported_before_logits_were_served_is_refused(tmp_path):
    old = tmp_path / "old.tflite"
    shutil.copy(SHIPPED.with_suffix(".tflite"), old)
    card = json.loads(SHIPPED.with_suffix(".json").read_text())
    del card["outputs"]  # older exports served probabilities and did not say so
    old.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"does not output logits.*`econsult export`"):
        EmotionClassifier(old)
