"""`econsult train --init` continues from a trained model, and refuses one it cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.architecture import build


def _train(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "cli.main", "train", "--version", "test-v1", *args]
    return subprocess.run(command, env=os.environ, capture_output=True, text=True, timeout=300)


def _other_architecture(path: Path) -> Path:
    build(widths=(16, 32)).save(path)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.keras", "does not exist; --init takes a .keras model file"),
    (lambda tmp: _other_architecture(tmp / "small.keras"),
     "is not a model of the architecture being trained"),
])
def test_a_model_it_cannot_start_from_is_refused_clearly(tmp_path, make, message):
    result = _train("--init", str(make(tmp_path)), "--checkpoints", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
