"""Real headless Chromium browsers with a fake camera and microphone, for tests of the room's
pages.

Flags follow ../shared/notes/webrtc-testing.md: Debian's chromium driven by Playwright (never
Playwright's own browser), the fake camera fed from a Y4M made from FER2013 faces, and mDNS
host candidates off so aiortc can reach the browser.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Playwright passes its own --disable-features list and the last list given wins: merged here.
DISABLED_FEATURES = ",".join([
    "WebRtcHideLocalIpsWithMdns", "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose", "HttpsUpgrades", "MediaRouter", "PaintHolding",
    "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
])


@contextlib.contextmanager
def launcher(camera: Path) -> Iterator[Callable[..., Browser]]:
    """Launches browsers (one per participant: the fake camera is per browser process).

    Playwright's sync API holds an event loop while open, so it lives only this long.
    """
    launched: list[Browser] = []
    playwright = sync_playwright().start()

    def launch(speech: Path | None = None) -> Browser:
        """A browser whose fake microphone plays ``speech`` (a WAV, looped) when given, and
        beeps otherwise."""
        microphone = [f"--use-file-for-fake-audio-capture={speech}"] if speech else []
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, ignore_default_args=["--headless"],
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={camera}", *microphone,
                  f"--disable-features={DISABLED_FEATURES}"])
        launched.append(browser)
        return browser

    try:
        yield launch
    finally:
        for browser in launched:
            browser.close()
        playwright.stop()
