"""The teacher's own browser with a class's gallery open: Debian's headless Chromium, driven by
Playwright, signed in as the consultant and opening their room link in a laptop's window
(1366x768); its fake camera publishes as a teacher's webcam would, and its page watches the
small layer of each student whose thumbnail is on screen. What it received is read from
Chromium's own WebRTC stats, its CPU from its processes."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from contracts.accounts import COOKIE
from tests.support.processes import descendants
from tests.support.rooms import THUMBNAILS_ON_SCREEN

CHROMIUM = "/usr/bin/chromium"
# Nothing hides the machine's address behind mDNS (which Janus ignores): Chromium shows it to
# pages allowed the camera, and the room opens the camera before it connects.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",  # run as root, on no GPU
         # A camera without a prompt: a moving test pattern at 640x480, as a webcam sends.
         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
JOIN_TIMEOUT_MS = 60_000
LAPTOP = {"width": 1366, "height": 768}  # the commonest laptop screen
# The video the page has received, summed over its connections (its publication receives none).
RECEIVED = """async () => {
  const totals = {bytes: 0, frames: 0, packets: 0, lost: 0, playing: 0};
  for (const pc of window.econsultConnections()) {
    for (const stats of (await pc.getStats()).values()) {
      if (stats.type !== "inbound-rtp" || stats.kind !== "video") continue;
      totals.bytes += stats.bytesReceived;
      totals.frames += stats.framesDecoded;
      totals.packets += stats.packetsReceived;
      totals.lost += stats.packetsLost;
      totals.playing += stats.framesDecoded > 0 ? 1 : 0;
    }
  }
  return totals;
}"""


@dataclasses.dataclass
class Received:
    """Video a page has received since it opened, as Chromium counts it."""

    bytes: int
    frames: int  # decoded
    packets: int
    lost: int
    playing: int  # videos with a decoded frame


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[tuple[Browser, int]]:
    """A headless Chromium, and the process id of its browser process (its other processes
    are under it)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"the teacher's browser is Debian's chromium, and {CHROMIUM} is "
                           "missing: apt-get install chromium (scripts/test installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, ignore_default_args=["--headless"], args=FLAGS)
        try:
            yield browser, _browser_process()
        finally:
            await browser.close()


async def open_gallery(browser: Browser, url: str, link: str, cookie: str) -> Page:
    """The room ``link`` opened by its consultant (signed in with ``cookie`` on ``url``), once
    the page is in the call."""
    context = await browser.new_context(viewport=LAPTOP)
    await context.add_cookies([{"name": COOKIE, "value": cookie, "url": url}])
    page = await context.new_page()
    await page.goto(link)
    try:
        await page.click("#join", timeout=JOIN_TIMEOUT_MS)  # without voice analysis
        await page.wait_for_function(
            "() => document.getElementById('status').textContent.startsWith('In the call')",
            timeout=JOIN_TIMEOUT_MS)
    except PlaywrightTimeout:
        status = await page.text_content("#status")
        raise RuntimeError(f"the teacher's page did not join the call within "
                           f"{JOIN_TIMEOUT_MS / 1000:.0f} s; it says {status!r}") from None
    return page


async def received(page: Page) -> Received:
    """The video ``page`` has received so far, over all its connections."""
    return Received(**await page.evaluate(RECEIVED))


async def on_screen(page: Page) -> int:
    """How many students' thumbnails the gallery of ``page`` shows now."""
    return len(await page.evaluate(THUMBNAILS_ON_SCREEN))


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root`` and every process under it. Each process's own time and that of
    its children it has reaped: a renderer that ended still counts, once."""
    total = 0
    for pid in (root, *descendants(root)):
        with contextlib.suppress(OSError):  # it ended meanwhile: its parent reaps its time
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def _browser_process() -> int:
    """The Chromium browser process Playwright launched for this process (under its driver):
    the first ``chromium`` from the top of this process's tree."""
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/comm") as comm:
            if comm.read().strip() == "chromium":
                return pid
    raise RuntimeError(f"no chromium process is running under this one; is {CHROMIUM} "
                       f"Debian's chromium?")
