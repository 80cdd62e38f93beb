"""`econsult analyze` refuses what it cannot analyse with one clear line and a non-zero exit,
before anything reaches the stream."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import av
import pytest

from contracts.settings import Settings


def _analyze(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "analyze", *args, "--room", "r"],
                          env={**os.environ, **settings.to_env()}, capture_output=True,
                          text=True, timeout=120)


def _empty_video(path):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    return path


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.mp4", "does not exist"),
    (lambda tmp: (tmp / "notes.mp4").write_text("minutes of the meeting") and tmp / "notes.mp4",
     "is not a video FFmpeg can read"),
    (lambda tmp: _empty_video(tmp / "empty.mp4"), "holds no video frames"),
])
def test_bad_input_gets_a_one_line_error(settings, tmp_path, make, message):
    result = _analyze(settings, str(make(tmp_path)))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_workers_it_says_how_to_start_them(settings, fer_clip):
    lonely = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-no-workers")
    result = _analyze(lonely, str(fer_clip.path))
    assert result.returncode == 2
    assert "no worker is reading the frames stream" in result.stderr
    assert "econsult up" in result.stderr
