"""How far the expression readings can be trusted, as last measured: the one place the room's
consent and live notes and "About the numbers" read these figures from.

Test-face figures are the served model's card (worker/weights/emotion.json; a test keeps them
equal); the others are ``econsult bench expressions`` on the same model.
"""

from __future__ import annotations

from contracts.baseline import MIN_FRAMES
from contracts.smoothing import CLEAR_MARGIN, HOLD_S, WINDOW_S

# Replaced by the figures of each new model and measurement.
MEASURED: dict[str, str | float] = {
    "model": "cnn48mix-ferplus-v1",
    # FER2013 PublicTest faces, agreeing with the majority of ten FER+ annotators: plain, and
    # the mean over the seven expressions.
    "test_faces": 0.7527,
    "test_faces_balanced": 0.7984,
    # The London set (102 adults, photographed neutral and smiling): read by the model alone.
    "smiles": 0.578,
    "neutral": 1.0,
    # The same people as sessions, by the personal reading.
    "smiles_personal": 0.893,
    "neutral_personal": 0.994,
    # Three real clips of people talking: the share of updates at which the label changed.
    "changes_least": 0.030,
    "changes_most": 0.066,
    # After a change of face, seconds until the new expression is shown (90th percentile).
    "delay_s": 1.5,
}


def consent_text(figures: dict[str, str | float] = MEASURED) -> str:
    """What a person is told of the estimates' limits before agreeing to face analysis."""
    return (f"Estimates read expressions, not feelings, and are often wrong: they agree with "
            f"most of ten people on {figures['test_faces']:.0%} of test faces, and take "
            f"{1 - float(figures['smiles']):.0%} of real smiles for another expression. They are "
            "also compared with your own usual expression in this call.")


def limits_text(figures: dict[str, str | float] = MEASURED) -> str:
    """The note under the consultant's live readings."""
    return (f"Estimates of facial expression, not feelings: on test faces the model agrees with "
            f"most of ten people {figures['test_faces']:.0%} of the time, and it reads only "
            f"{figures['smiles']:.0%} of real smiles as happy. Each reading is the mean of the "
            f"last {WINDOW_S:g} s; its label changes only when another expression leads by "
            f"{CLEAR_MARGIN:.0%} for {HOLD_S:g} s (on real clips, at "
            f"{figures['changes_least']:.0%}-{figures['changes_most']:.0%} of updates), so a "
            f"change shows within about {figures['delay_s']:g} s. \"Unclear: A or B\" means the "
            f"model cannot tell them apart. \"Compared with their usual expression\" reads the "
            f"face against the same person's own in this call, from their "
            f"{MIN_FRAMES + 1}st frame on: it catches {figures['smiles_personal']:.0%} of "
            f"smiles, but someone sad all along reads neutral by it. \"Facing the screen\" is "
            f"the head's direction, not where the eyes look. Read trends, not single moments.")
