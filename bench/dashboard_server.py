"""Requests per second from the dashboard's production server (gunicorn, ``econsult dashboard``)
and from Flask's development server (``app.run``, what it used before), on the same pages:
the sign-in page and its stylesheet (no sign-in needed), and the signed-in index page (a
sign-in looked up in PostgreSQL, then Dash's page). ``CLIENTS`` keep-alive connections ask at
once, from processes of their own, for ``SECONDS`` each."""

from __future__ import annotations

import dataclasses
import http.client
import os
import subprocess
import sys
import time
import urllib.request
from http.cookies import SimpleCookie

from bench.pipeline import cleanup, scratch_settings
from contracts.accounts import COOKIE
from contracts.settings import Settings
from migrations.runner import upgrade
from tests.support.processes import EconsultProcess, free_port, wait_for

CLIENTS = 8  # as many as the production server's threads in all (2 processes of 4)
SECONDS = 5.0
WARM_UP_S = 1.0
USER, PASSWORD = "bench-manager", "a long bench password"
PAGES = {"sign-in page": "/login", "its stylesheet": "/login.css",
         "signed-in index page": "/"}
DEVELOPMENT = """
import sys
from contracts.settings import Settings
from dashboard.app import create_app
settings = Settings.from_env()
create_app(settings).run(host=settings.dashboard_host, port=settings.dashboard_port, debug=False)
"""


def run_server_bench(settings: Settings) -> dict[str, float]:
    bench = scratch_settings(settings)
    upgrade(bench.database_url)
    subprocess.run([sys.executable, "-m", "cli.main", "user", "add", USER, "--role", "manager",
                    "--password-stdin"], input=PASSWORD, text=True, check=True,
                   capture_output=True, env={**os.environ, **bench.to_env()})
    figures: dict[str, float] = {}
    try:
        for server in ("production (gunicorn)", "development (Flask)"):
            local = dataclasses.replace(bench, dashboard_port=free_port())
            process = _start(server, local)
            try:
                cookie = _sign_in(local.dashboard_port)
                for page, path in PAGES.items():
                    rate = _requests_per_second(local.dashboard_port, path, cookie)
                    figures[f"dashboard {server}: {page}, requests/s"] = rate
            finally:
                process.stop()
        return figures
    finally:
        cleanup(bench)


def _start(server: str, settings: Settings) -> EconsultProcess:
    # Both log every request; neither log is read here.
    command = ["-m", "cli.main", "dashboard"] if server.startswith("production") \
        else ["-c", DEVELOPMENT]
    process = EconsultProcess(server, subprocess.Popen(
        [sys.executable, *command], env={**os.environ, **settings.to_env()},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{settings.dashboard_port}/login"
    wait_for(lambda: _answers(url) or process.process.poll() is not None, 60,
             f"the {server} server to start")
    if process.process.poll() is not None:
        raise RuntimeError(f"the {server} dashboard exited at start")
    return process


def _sign_in(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/login", f"username={USER}&password={PASSWORD}&next=/"
                           .replace(" ", "+"),
                           {"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": f"http://127.0.0.1:{port}"})
        response = connection.getresponse()
        response.read()
        cookies = SimpleCookie(response.getheader("Set-Cookie") or "")
    finally:
        connection.close()
    if response.status != 302 or COOKIE not in cookies:
        raise RuntimeError(f"signing in answered {response.status} without a sign-in cookie")
    return f"{COOKIE}={cookies[COOKIE].value}"


def _requests_per_second(port: int, path: str, cookie: str) -> float:
    clients = [subprocess.Popen([sys.executable, "-m", "bench.dashboard_server", str(port), path,
                                 cookie], stdout=subprocess.PIPE, text=True)
               for _ in range(CLIENTS)]
    counts = [int(client.communicate(timeout=60 + WARM_UP_S + SECONDS)[0]) for client in clients]
    if any(count < 0 for count in counts):
        raise RuntimeError(f"{path} answered other than 200 under load")
    return sum(counts) / SECONDS


def _client(port: int, path: str, cookie: str) -> int:
    """Responses in ``SECONDS`` after ``WARM_UP_S`` on one keep-alive connection; -1 on an error
    status (the connection is opened again whenever the server closes it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.monotonic()
    counted, end = 0, start + WARM_UP_S + SECONDS
    try:
        while (now := time.monotonic()) < end:
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                return -1
            if response.will_close:
                connection.close()
            counted += now >= start + WARM_UP_S
    finally:
        connection.close()
    return counted


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":  # one client: python -m bench.dashboard_server PORT PATH COOKIE
    print(_client(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
