"""How well the voice activity detector finds each person's speech, as ``econsult bench speech``
last measured it: the one place the About page reads these figures from."""

from __future__ import annotations

# Replaced by the figures of each new measurement; None until the first.
DETECTOR_ACCURACY: dict[str, str | float | None] = {
    "measured_on": "the project's labelled corpus (80 synthesized and 20 recorded utterances, "
                   "noise at 20, 10 and 5 dB SNR, the other person's voice at -20 dB) and five "
                   "5-minute two-person conversations, 5 Dec 2026",
    "speech_found": 0.713,  # share of labelled clean speech the detector called speech
    "false_speech": 0.144,  # share of the rest (noise at each SNR, a leaked voice) called speech
    "talk_share_error": 0.87,  # mean error of a person's talk share, in percentage points
}


def accuracy_text(figures: dict[str, str | float | None] = DETECTOR_ACCURACY) -> str:
    if any(value is None for value in figures.values()):
        return ("The detector's accuracy has not been measured on a labelled corpus yet: read "
                "every speech figure as approximate.")
    return (f"Measured by `econsult bench speech` on {figures['measured_on']}: the detector "
            f"found {figures['speech_found']:.0%} of the speech and called "
            f"{figures['false_speech']:.0%} of the rest speech (noise, or the other person's "
            f"voice leaking into a microphone); a person's talk share was off by "
            f"{figures['talk_share_error']:.1f} points on average.")
