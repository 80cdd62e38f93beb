"""``econsult janus``: the SFU that carries the calls (Janus, Debian's ``janus``), started with
econsult's own configuration (deploy/janus) at ``ECONSULT_JANUS_URL``'s address, creating rooms
only with ``ECONSULT_JANUS_ADMIN_KEY``. Its private configuration folder lives as long as it."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from cli import CommandError, children
from contracts.settings import Settings

LAUNCHER = Path(__file__).resolve().parents[1] / "deploy" / "janus" / "run"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("janus",
                                 help="run the SFU (Janus) with econsult's configuration")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if shutil.which("janus") is None:
        raise CommandError("janus is not installed; scripts/setup installs it (Debian's janus)")
    address = urlsplit(settings.janus_url)
    if not settings.janus_url or address.hostname is None or not settings.janus_admin_key:
        raise CommandError("set ECONSULT_JANUS_URL (e.g. http://127.0.0.1:8088/janus) and "
                           "ECONSULT_JANUS_ADMIN_KEY (e.g. openssl rand -hex 32)")
    environment = os.environ | {"ECONSULT_JANUS_ADMIN_KEY": settings.janus_admin_key,
                                "ECONSULT_JANUS_HTTP_IP": address.hostname,
                                "ECONSULT_JANUS_HTTP_PORT": str(address.port or 8088)}
    with tempfile.TemporaryDirectory(prefix="econsult-janus-") as runtime:
        janus = children.start([str(LAUNCHER), str(Path(runtime) / "configuration")],
                               env=environment)
        # Stopped (econsult up sends SIGTERM): Janus stops too, then its folder goes.
        signal.signal(signal.SIGTERM, lambda *_: janus.terminate())
        try:
            return janus.wait()
        finally:  # Ctrl-C
            if janus.poll() is None:
                janus.terminate()
                janus.wait()
