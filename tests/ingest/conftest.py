"""A consultation set up for each test, with links into the test run's ingest, and speech for
the browsers' fake microphones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from contracts.invitations import RoomLinks
from tests.support.accounts import set_up

SPEECH = ("Good morning, thank you for seeing me today. I have had a headache for three days "
          "now. It is worse in the evening, after work.")


@pytest.fixture
def room(engine, settings, ingest_url) -> RoomLinks:
    return set_up(engine, settings, ingest_url)


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A person speaking, then two seconds of silence, as a WAV for a fake microphone (the
    browser loops it)."""
    folder = tmp_path_factory.mktemp("speech")
    spoken = folder / "spoken.wav"
    subprocess.run(["espeak-ng", "-w", str(spoken), SPEECH], check=True)
    path = folder / "speech.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(spoken), "-af",
                    "apad=pad_dur=2", "-ar", "48000", "-ac", "1", str(path)], check=True)
    return path
