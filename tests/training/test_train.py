"""`econsult train` continues from a trained model (--init), learns from served ones
(--teacher, repeatable), and refuses either when it cannot use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from contracts.emotion_model import EmotionClassifier
from training import data, ferplus
from training.architecture import build
from training.train import TEACHER_SHARE, TrainConfig, _chosen, _model, _targets

SHIPPED = Path(__file__).resolve().parents[2] / "worker" / "weights" / "emotion.tflite"


def _train(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "cli.main", "train", "--version", "test-v1", *args]
    return subprocess.run(command, env=os.environ, capture_output=True, text=True, timeout=300)


def _other_architecture(path: Path) -> Path:
    build(widths=(16, 32)).save(path)
    return path


@pytest.mark.parametrize("option, make, message", [
    ("--init", lambda tmp: tmp / "missing.keras",
     "does not exist; --init takes a .keras model file"),
    ("--init", lambda tmp: _other_architecture(tmp / "small.keras"),
     "is not a model of the architecture being trained"),
    ("--teacher", lambda tmp: tmp / "missing.tflite", "--teacher takes a served model"),
])
def test_a_model_it_cannot_start_from_or_learn_from_is_refused_clearly(tmp_path, option, make,
                                                                         message):
    result = _train(option, str(make(tmp_path)), "--checkpoints", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]


def test_widths_that_are_not_channel_counts_are_refused():
    result = _train("--widths", "32,wide")
    assert result.returncode == 2
    assert "'32,wide' is not a list of channel counts like 32,64,128" in result.stderr


def _few_voted_faces() -> ferplus.VotedFaces:
    faces = ferplus.load(data.PUBLIC_TEST, ferplus.PUBLIC_TEST_VOTES)
    return faces.take(slice(50))


def test_a_run_learns_the_votes_and_a_teacher_softens_them_with_its_probabilities():
    few = _few_voted_faces()
    assert np.array_equal(_targets(few, []), few.shares)
    targets = _targets(few, [EmotionClassifier(SHIPPED)])
    assert np.allclose(targets.sum(1), 1, atol=1e-5)
    # The votes keep their share, whatever the teacher; the teacher spreads the rest.
    assert np.all(targets >= (1 - TEACHER_SHARE) * few.shares - 1e-6)
    assert not np.allclose(targets, few.shares)


def test_several_teachers_teach_the_mean_of_their_probabilities():
    few = _few_voted_faces()
    teacher = EmotionClassifier(SHIPPED)
    assert np.allclose(_targets(few, [teacher, teacher]), _targets(few, [teacher]), atol=1e-6)


def test_averaging_from_an_epoch_the_run_does_not_have_is_refused():
    result = _train("--epochs", "3", "--average-from", "5")
    assert result.returncode == 2
    assert "--average-from 5 is not an epoch of this 3-epoch run; give one from 1 to 3" \
        in result.stderr


def test_the_weight_average_is_exported_only_when_it_beats_the_best_epoch(tmp_path):
    best, average = tmp_path / "best.keras", tmp_path / "average.keras"
    state = {"epoch": 12, "best_score": 0.69, "average_score": 0.70}
    assert _chosen(best, average, state) == (average, 0.70)
    assert _chosen(best, average, {**state, "average_score": 0.68}) == (best, 0.69)
    assert _chosen(best, None, state) == (best, 0.69)  # a run that did not average


def test_a_new_run_in_a_used_checkpoints_folder_does_not_inherit_the_earlier_runs_best(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"epoch": 30, "best_score": 0.69}')
    config = TrainConfig(version="test-v2", checkpoints=tmp_path, widths=(8, 16))
    _, done = _model(config, np.full(7, 1 / 7), 10, tmp_path / "last.keras", state)
    assert done == 0 and not state.exists()
