"""``econsult ingest`` started by a test with settings of its own, until the test is done."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from contracts.settings import Settings
from tests.support.processes import EconsultProcess, econsult, health, wait_for


@contextlib.contextmanager
def running_ingest(settings: Settings) -> Iterator[str]:
    """Ingest with ``settings`` (its port chosen by the caller), its public URL once it answers
    (over HTTPS, checked against ``settings.tls_cert``); stopped when the block ends."""
    url, cafile = settings.public_room_url, settings.tls_cert or None
    server = EconsultProcess("ingest", econsult(settings, "ingest"))
    try:
        wait_for(lambda: health(url, cafile) is not None or server.process.poll() is not None,
                 60, f"ingest to answer at {url}")
        if server.process.poll() is not None:
            raise RuntimeError(f"econsult ingest exited at start with {server.process.returncode}")
        yield url
    finally:
        server.stop()
