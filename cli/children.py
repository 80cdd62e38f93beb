"""Child processes that never outlive the command that started them.

A supervisor stopped in order (SIGINT, SIGTERM) stops its children itself; one killed outright
(SIGKILL, the OOM killer) cannot, and children in sessions of their own would run on, holding
their ports. So each child asks Linux to send it SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``, kept across exec), and stops as it would for a Ctrl-C.

The request is made by util-linux's ``setpriv``, after exec. Made between fork and exec (a
``preexec_fn``), it ran Python in the child, which first frees the locals of the parent's other
threads: one whose end waits on a lock such a thread held (a PyAV scaler's) hung the child.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from cli import CommandError

# Run by sh once setpriv has made the request: a parent that died before it was made will never
# send the signal, and the child must not start at all (143: as if it had been sent SIGTERM).
_UNLESS_ORPHANED = '[ "$PPID" = "$1" ] || exit 143; shift; exec "$@"'


def start(args: list[str], *, own_session: bool = False, **popen: Any) -> subprocess.Popen:
    """``subprocess.Popen(args)`` whose process receives SIGTERM when this one dies; with
    ``own_session`` it is also out of reach of the terminal's Ctrl-C, which the caller handles.
    The process keeps the returned pid: setpriv and sh each exec the next."""
    if shutil.which("setpriv") is None:
        raise CommandError("setpriv is not installed: install util-linux (Debian: apt-get "
                           "install util-linux), which ties each service to econsult's process")
    guarded = ["setpriv", "--pdeathsig", "TERM", "--",
               "sh", "-c", _UNLESS_ORPHANED, "sh", str(os.getpid()), *args]
    return subprocess.Popen(guarded, start_new_session=own_session, **popen)
