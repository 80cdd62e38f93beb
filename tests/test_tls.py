"""HTTPS from ingest and the dashboard themselves: ``ECONSULT_TLS_CERT`` and ``ECONSULT_TLS_KEY``
set, both serve only HTTPS with that certificate; one without the other is refused at start."""

from __future__ import annotations

import dataclasses
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.accounts import COOKIE
from contracts.settings import Settings
from tests.support.accounts import PASSWORD, account
from tests.support.http import opener
from tests.support.processes import EconsultProcess, econsult, free_port, wait_for
from tests.support.tls import make_certificate

START_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_settings(settings: Settings, certificate: tuple[Path, Path]) -> Settings:
    cert, key = certificate
    return dataclasses.replace(settings, tls_cert=str(cert), tls_key=str(key),
                               ingest_port=free_port(), dashboard_port=free_port())


@pytest.fixture(scope="module")
def servers(tls_settings: Settings, certificate: tuple[Path, Path]
            ) -> Iterator[dict[str, str]]:
    """``econsult ingest`` and ``econsult dashboard`` serving HTTPS: their https:// URLs."""
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    started = [EconsultProcess(name, econsult(tls_settings, name))
               for name in ("ingest", "dashboard")]
    urls = {"ingest": f"https://localhost:{tls_settings.ingest_port}",
            "dashboard": f"https://localhost:{tls_settings.dashboard_port}"}
    try:
        for server, path in zip(started, ("/healthz", "/login"), strict=True):
            url = urls[server.name] + path
            wait_for(lambda url=url, server=server: _status(url, trusted) == 200
                     or server.process.poll() is not None, START_TIMEOUT_S,
                     f"econsult {server.name} to answer {url}")
            assert server.process.poll() is None, f"econsult {server.name} exited at start"
        yield urls
    finally:
        for server in started:
            server.stop()


@pytest.mark.parametrize(("service", "path", "says"), [("ingest", "/healthz", b'"status": "ok"'),
                                                       ("dashboard", "/login", b"Sign in")])
def test_each_serves_https_with_the_configured_certificate(servers, certificate, service, path,
                                                           says):
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    port = servers[service].rsplit(":", 1)[1]
    # The servers listen on 127.0.0.1: both of its names, each verified against the certificate.
    for host in ("localhost", "127.0.0.1"):
        with urllib.request.urlopen(f"https://{host}:{port}{path}", context=trusted,
                                    timeout=10) as response:
            assert response.status == 200
            assert says in response.read()


def test_a_client_that_does_not_trust_the_certificate_is_refused(servers):
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(servers["dashboard"] + "/login", timeout=10)


def test_plain_http_gets_no_page(servers):
    for url in servers.values():
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(url.replace("https://", "http://") + "/login", timeout=10)


@pytest.mark.parametrize("service", ["ingest", "dashboard"])
def test_a_certificate_without_its_key_is_refused_with_what_to_set(env, certificate, service):
    started = subprocess.run([sys.executable, "-m", "cli.main", service],
                             env={**env, "ECONSULT_TLS_CERT": str(certificate[0]),
                                  "ECONSULT_TLS_KEY": ""},
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 2
    assert started.stderr.strip() == (
        f"econsult {service}: ECONSULT_TLS_CERT is set but ECONSULT_TLS_KEY is not: set both "
        "(a PEM certificate and its private key) to serve HTTPS, or neither to serve HTTP")


def _status(url: str, context: ssl.SSLContext) -> int | None:
    try:
        with urllib.request.urlopen(url, context=context, timeout=2) as response:
            return response.status
    except OSError:
        return None


def test_over_https_the_sign_in_cookie_is_only_sent_over_https(servers, certificate, engine):
    manager = account(engine, "manager")
    body = urllib.parse.urlencode({"username": manager.username, "password": PASSWORD}).encode()
    request = urllib.request.Request(servers["dashboard"] + "/login", data=body, method="POST")
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    with pytest.raises(urllib.error.HTTPError) as signed_in:  # 302 to the page asked for
        opener(trusted).open(request, timeout=10)
    cookie = signed_in.value.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
