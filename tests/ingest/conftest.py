"""A real ingest server and real headless Chromium browsers with a fake camera, for room tests.

Flags follow ../shared/notes/webrtc-testing.md: Debian's chromium driven by Playwright (never
Playwright's own browser), the fake camera fed from a Y4M made here from FER2013 faces, and
mDNS host candidates off so aiortc can reach the browser.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from bench.processes import EconsultProcess, econsult, free_port, health, wait_for
from contracts.settings import Settings

CHROMIUM = "/usr/bin/chromium"
# Playwright passes its own --disable-features list and the last list given wins: merged here.
DISABLED_FEATURES = ",".join([
    "WebRtcHideLocalIpsWithMdns", "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose", "HttpsUpgrades", "MediaRouter", "PaintHolding",
    "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
])


@pytest.fixture(scope="session")
def ingest_url(settings: Settings, worker: EconsultProcess) -> Iterator[str]:
    port = free_port()
    server = EconsultProcess("ingest", econsult(
        dataclasses.replace(settings, ingest_port=port, sample_fps=4.0), "ingest"))
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: health(url) is not None or server.process.poll() is not None, 60,
             "ingest to start")
    assert server.process.poll() is None, "econsult ingest exited at start"
    yield url
    server.stop()


@pytest.fixture(scope="session")
def camera_y4m(fer_clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten seconds of FER faces as the fake camera's Y4M (the browser loops it)."""
    path = tmp_path_factory.mktemp("camera") / "faces.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(fer_clip.path), "-t", "10",
                    "-vf", "fps=15,format=yuv420p", str(path)], check=True)
    return path


@contextlib.contextmanager
def launcher(camera: Path) -> Iterator[Callable[[], Browser]]:
    """Launches browsers (one per participant: the fake camera is per browser process).

    Playwright's sync API holds an event loop while open, so it lives only this long.
    """
    launched: list[Browser] = []
    playwright = sync_playwright().start()

    def launch() -> Browser:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, ignore_default_args=["--headless"],
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={camera}",
                  f"--disable-features={DISABLED_FEATURES}"])
        launched.append(browser)
        return browser

    try:
        yield launch
    finally:
        for browser in launched:
            browser.close()
        playwright.stop()
