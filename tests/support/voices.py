"""Speech whose timing is known, for the voice tests: espeak-ng's synthesized voices (Debian's
``espeak-ng``, which scripts/test installs), at 16 kHz mono through a pipe, and as WAVs for
browsers' fake microphones where a test asks."""

from __future__ import annotations

import functools
import io
import subprocess
import wave
from pathlib import Path

import numpy as np

RATE = 16_000


@functools.cache
def synthesize(text: str, voice: str = "en-us+m3", speed: int = 160) -> np.ndarray:
    """``text`` spoken by ``voice`` as int16 samples at 16 kHz, without leading or trailing
    silence."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                         check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), np.int16)
    resampled = np.interp(np.arange(0, len(samples), rate / RATE), np.arange(len(samples)),
                          samples).astype(np.int16)
    voiced = np.flatnonzero(np.abs(resampled) > 100)
    return resampled[voiced[0]:voiced[-1] + 1]


def at_level(samples: np.ndarray, dbfs: float) -> np.ndarray:
    """``samples`` scaled so that their RMS is ``dbfs`` dB below full scale."""
    rms = np.sqrt(np.mean((samples / 32768.0) ** 2))
    return np.clip(samples * (10 ** (dbfs / 20) / rms), -32768, 32767).astype(np.int16)


def looped_speech(path: Path, text: str, voice: str, beat_s: float) -> float:
    """Write to ``path`` a WAV for a browser's fake microphone (which loops it): ``text``
    spoken by ``voice``, then silence until ``beat_s`` seconds. How long the speech lasts."""
    spoken = at_level(synthesize(text, voice), -23.0)
    beat = np.zeros(round(beat_s * RATE), np.int16)
    beat[:len(spoken)] = spoken
    played = 48_000  # the rate of the browser's own microphone
    resampled = np.interp(np.arange(0, len(beat), RATE / played), np.arange(len(beat)), beat)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(played)
        writer.writeframes(resampled.astype(np.int16).tobytes())
    return len(spoken) / RATE
