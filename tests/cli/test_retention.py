"""``econsult retention``: one retention pass for cron users, and a clear error for a policy that
would keep sessions shorter than their frames."""

from __future__ import annotations

import subprocess
import sys


def _retention(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "retention"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_pass_says_what_it_deleted_and_kept(env):
    done = _retention({**env, "ECONSULT_RETENTION_DAYS": "3650",
                       "ECONSULT_SUMMARY_RETENTION_DAYS": "3650"})
    assert done.returncode == 0, done.stderr
    assert "frames, faces and speech kept 3650 days: 0 expired week(s) dropped" in done.stdout \
        or "a worker is running a retention pass now" in done.stdout


def test_sessions_kept_shorter_than_their_frames_is_refused(env):
    done = _retention({**env, "ECONSULT_SUMMARY_RETENTION_DAYS": "30"})
    assert done.returncode == 2
    assert "set ECONSULT_SUMMARY_RETENTION_DAYS to at least ECONSULT_RETENTION_DAYS" in done.stderr
