"""How well the voice activity detector finds each person's speech, as ``econsult bench speech``
last measured it: the one place the About page reads these figures from."""

from __future__ import annotations

# Replaced by the figures of each new measurement.
DETECTOR_ACCURACY: dict[str, str | float] = {
    "measured_on": "the project's labelled corpus (80 synthesized and 20 recorded utterances, "
                   "noise at 20, 10 and 5 dB SNR, the other person's voice at -20 dB) and five "
                   "5-minute two-person conversations, 5 Dec 2026",
    "speech_found": 0.959,  # share of labelled clean speech the detector called speech
    "false_in_quiet": 0.048,  # share of a quiet room's non-speech called speech
    "false_in_noise": 0.160,  # the same with noise 10 dB below the speech (mean of 4 kinds)
    "leak_taken": 0.0,  # share of the other person's voice, leaking in, called theirs
    "talk_share_error": 0.33,  # mean error of a person's talk share, in percentage points
}


def accuracy_text(figures: dict[str, str | float] = DETECTOR_ACCURACY) -> str:
    return (f"Measured by `econsult bench speech` on {figures['measured_on']}: the detector "
            f"found {figures['speech_found']:.0%} of the speech; it called speech "
            f"{figures['false_in_quiet']:.0%} of the rest in a quiet room (mostly the ends of "
            f"words) and {figures['false_in_noise']:.0%} of it with noise 10 dB below the voice, "
            f"and {figures['leak_taken']:.0%} of the other person's voice leaking into a "
            f"microphone; a person's talk share was off by {figures['talk_share_error']:.1f} "
            f"points on average.")
