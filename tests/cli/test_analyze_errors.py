"""`econsult analyze` refuses what it cannot analyse with one clear line and a non-zero exit,
before anything reaches the stream; a recording that breaks off is analysed as far as it reads,
and says so."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import func, select

from cli.analyze import EXIT_INCOMPLETE
from contracts.schema import Sample, Session
from contracts.settings import Settings
from tests.conftest import CLIP_FACES


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


@pytest.mark.parametrize("name, message", [("x" * 101, "is longer than 100 characters"),
                                           ("  ", "is blank")])
def test_a_name_the_stream_cannot_carry_is_refused(settings, fer_clip, name, message):
    result = _analyze(settings, str(fer_clip.path), "--participant", name)
    assert result.returncode == 2 and f"--participant {message}" in result.stderr


def test_without_workers_it_says_how_to_start_them(settings, fer_clip):
    lonely = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-no-workers")
    result = _analyze(lonely, str(fer_clip.path))
    assert result.returncode == 2
    assert "no worker is reading the frames stream" in result.stderr
    assert "econsult up" in result.stderr


def _damaged(clip: Path, tmp_path: Path) -> Path:
    """The clip with a stretch of its middle overwritten, as a failing disk leaves it."""
    damaged = bytearray(clip.read_bytes())
    middle = len(damaged) // 2
    damaged[middle:middle + 20_000] = np.random.default_rng(0).bytes(20_000)
    (tmp_path / "damaged.mp4").write_bytes(damaged)
    return tmp_path / "damaged.mp4"


def _truncated(clip: Path, tmp_path: Path) -> Path:
    """The clip as an AVI cut to a fifth of its bytes, as an interrupted copy leaves it."""
    whole = tmp_path / "whole.avi"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(clip), "-c:v", "mjpeg",
                    str(whole)], check=True)
    data = whole.read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[:len(data) // 5])
    return tmp_path / "cut.avi"


@pytest.mark.parametrize("make, message", [(_damaged, "is damaged"), (_truncated, "truncated?")])
def test_a_damaged_or_cut_recording_is_analysed_as_far_as_it_reads_and_closed_as_incomplete(
        settings, engine, worker, fer_clip, tmp_path, make, message):
    room = f"incomplete-{uuid.uuid4().hex[:6]}"
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(make(fer_clip.path, tmp_path)),
         "--room", room], env={**os.environ, **settings.to_env()}, capture_output=True,
        text=True, timeout=300)
    assert result.returncode == EXIT_INCOMPLETE, result.stderr
    read = re.search(r"read (\d+) frames", result.stderr)
    assert message in result.stderr and read, result.stderr
    assert "the session is closed as incomplete" in result.stderr
    with engine.connect() as conn:
        session = conn.execute(select(Session).where(Session.room == room)).one()
        stored = conn.scalar(select(func.count()).select_from(Sample)
                             .where(Sample.session_id == session.id))
    assert session.end_reason == "incomplete" and session.ended_at is not None
    assert 0 < stored == int(read.group(1)) < CLIP_FACES * 2
