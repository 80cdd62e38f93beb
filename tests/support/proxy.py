"""Caddy, the TLS proxy of a deployment, run by a test with a configuration of its own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support.daemons import Daemon
from tests.support.http import status_of


def caddy_env(folder: Path) -> dict[str, str]:
    """Caddy keeps its state (and an internal CA) under these folders: the test's own."""
    return {"PATH": os.environ["PATH"], "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}


class OwnCaddy(Daemon):
    """``caddy run`` with the Caddyfile ``configuration``, answering at ``url``."""

    name = "Caddy"
    start_timeout_s = 30.0

    def __init__(self, folder: Path, configuration: str, url: str) -> None:
        super().__init__(folder / "caddy.log")
        self.folder, self.url = folder, url
        self.caddyfile = folder / "Caddyfile"
        self.caddyfile.write_text(configuration)

    @property
    def command(self) -> list[str]:
        found = shutil.which("caddy")
        if found is None:
            raise FileNotFoundError("caddy is not installed (scripts/test installs Debian's)")
        return [found, "run", "--config", str(self.caddyfile), "--adapter", "caddyfile"]

    def environment(self) -> dict[str, str]:
        return caddy_env(self.folder)

    def answers(self) -> bool:
        return status_of(f"{self.url}/static/room.js") == 200

