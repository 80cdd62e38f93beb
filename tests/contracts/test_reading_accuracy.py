"""The readings' measured limits that people are told (contracts.reading_accuracy) are those of
the model econsult serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.reading_accuracy import MEASURED, consent_text, limits_text

CARD = Path(__file__).resolve().parents[2] / "worker" / "weights" / "emotion.json"


def test_the_test_face_figures_are_the_served_models_card():
    card = json.loads(CARD.read_text())
    assert MEASURED["model"] == card["version"]
    assert MEASURED["test_faces"] == pytest.approx(card["ferplus_accuracy"])
    assert MEASURED["test_faces_balanced"] == pytest.approx(card["ferplus_balanced_accuracy"])


def test_people_are_told_how_often_the_model_is_right_and_how_steady_it_is():
    assert "75% of test faces" in consent_text()
    assert "42% of real smiles for another expression" in consent_text()
    limits = limits_text()
    assert "reads only 58% of real smiles as happy" in limits
    assert "3%-7% of updates" in limits
    assert "within about 1.5 s" in limits
