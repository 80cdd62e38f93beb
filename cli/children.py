"""Child processes that never outlive the command that started them.

A supervisor stopped in order (SIGINT, SIGTERM) stops its children itself; one killed outright
(SIGKILL, the OOM killer) cannot, and children in sessions of their own would run on, holding
their ports. So each child asks Linux to send it SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``, kept across exec), and stops as it would for a Ctrl-C.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from typing import Any

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def start(args: list[str], *, own_session: bool = False, **popen: Any) -> subprocess.Popen:
    """``subprocess.Popen(args)`` whose process receives SIGTERM when this one dies; with
    ``own_session`` it is also out of reach of the terminal's Ctrl-C, which the caller handles."""
    parent = os.getpid()

    def die_with_parent() -> None:  # runs in the child, between fork and exec
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)

    return subprocess.Popen(args, preexec_fn=die_with_parent, start_new_session=own_session,
                            **popen)
