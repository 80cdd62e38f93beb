"""A real dashboard server with a manager account, and Chromium pages signed in to it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from contracts.settings import Settings
from tests.support.http import status_of
from tests.support.processes import EconsultProcess, econsult, free_port, wait_for
from tests.support.summaries import summarise

PASSWORD = "a long enough password"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def dashboard_url(settings, env):
    subprocess.run([sys.executable, "-m", "cli.main", "user", "add", "manager", "--role",
                    "manager", "--password-stdin"], input=PASSWORD, text=True, env=env, check=True,
                   capture_output=True)
    with serving(dataclasses.replace(settings, alert_seconds=3.0)) as url:
        yield url


@pytest.fixture(scope="session")
def analysed_room(worker, fer_clip, env, engine) -> str:
    room = f"dashboard-{uuid.uuid4().hex[:6]}"
    subprocess.run([sys.executable, "-m", "cli.main", "analyze", str(fer_clip.path), "--room",
                    room, "--consultant", "Dr Bob"], env=env, check=True, capture_output=True,
                   timeout=300)
    summarise(engine)  # as the worker does within a second (summary_every_s)
    return room


@pytest.fixture(scope="module")
def browser(dashboard_url):
    # Module-scoped: Playwright's sync API holds an event loop while open (see tests/ingest).
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, dashboard_url) -> Page:
    """A signed-in manager's page, in a context of its own."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, dashboard_url, PASSWORD)
    expect(page.locator("h2")).to_have_text("Sessions", timeout=30_000)
    yield page
    context.close()


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """A dashboard server with ``settings`` on a port of its own: its URL, while it runs."""
    port = free_port()
    server = EconsultProcess("dashboard", econsult(
        dataclasses.replace(settings, dashboard_port=port), "dashboard"))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: status_of(f"{url}/login") == 200, 60, "the dashboard to start")
        yield url
    finally:
        server.stop()


def sign_in(page: Page, url: str, password: str, username: str = "manager") -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
