"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked, each econsult
service's command is started from the image's entry point against this test run's PostgreSQL
and Redis, and the proxy (Caddy, when installed) runs with deploy/Caddyfile in front of them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis
import yaml

from contracts.settings import Settings, env_table
from contracts.stream import StreamKeys, live_workers
from tests.support.processes import EconsultProcess, free_port, health, janus_answers, wait_for
from tests.support.proxy import caddy_env
from tests.support.tls import make_certificate

ROOT = Path(__file__).resolve().parents[1]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
SERVICES = {"postgres", "redis", "migrate", "ingest", "dashboard", "worker", "janus", "coturn",
            "proxy"}
ECONSULT_SERVICES = ("migrate", "ingest", "dashboard", "worker", "janus")
START_TIMEOUT_S = 90
# What `docker compose` would be given: the one variable without a default.
COMPOSE_VARIABLES = {"ECONSULT_TURN_SECRET": "a test secret", "ECONSULT_JANUS_ADMIN_KEY": "k" * 32}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_names_every_service_of_the_system():
    assert set(_compose()["services"]) == SERVICES


def test_workers_can_be_scaled_and_wait_for_their_dependencies():
    worker = _compose()["services"]["worker"]
    assert "container_name" not in worker, "a fixed container name prevents --scale"
    assert worker["command"][:1] == ["worker"]
    depends = worker["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"


def test_every_service_built_from_the_repo_uses_the_dockerfile():
    services = _compose()["services"]
    built = {name for name, service in services.items() if "build" in service}
    assert built == set(ECONSULT_SERVICES)
    for name in built:
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
        assert services[name]["image"] == "econsult:latest"
    assert _entry_point() == ["econsult"]


def test_services_reach_each_other_by_name():
    environment = _compose()["x-econsult-env"]
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379")


def test_services_are_configured_by_the_same_variables_as_everywhere_else():
    environment = _compose()["x-econsult-env"]
    assert set(environment) <= {name for name, _ in env_table()}
    values = _interpolated(environment)
    Settings.from_env(values)  # every value is one econsult can use
    assert values["ECONSULT_INGEST_HOST"] == values["ECONSULT_DASHBOARD_HOST"] == "0.0.0.0"
    assert values["ECONSULT_ROOM_URL"] == values["ECONSULT_DASHBOARD_URL"] == "https://localhost"
    assert values["ECONSULT_TURN_URLS"].startswith("turn:localhost:3478")
    with pytest.raises(KeyError, match="ECONSULT_TURN_SECRET"):
        _interpolated(environment, {})


def test_only_the_proxy_is_published_and_coturn_shares_the_turn_secret():
    services = _compose()["services"]
    assert {name for name, service in services.items() if "ports" in service} == {"proxy"}
    coturn = services["coturn"]
    assert coturn["network_mode"] == "host"
    command = coturn["command"]
    assert "--use-auth-secret" in command
    # From its environment into the configuration file in memory that turnserver reads.
    assert _interpolated(coturn["environment"])["ECONSULT_TURN_SECRET"] == \
        COMPOSE_VARIABLES["ECONSULT_TURN_SECRET"]
    shell, option, script, *_ = coturn["entrypoint"]
    script = _substituted(script)  # as the container's shell gets it
    assert (shell, option) == ("/bin/sh", "-c")
    assert "'static-auth-secret=%s\\n' \"$ECONSULT_TURN_SECRET\" >/run/coturn/turnserver.conf" \
        in script
    assert script.endswith('exec turnserver -c /run/coturn/turnserver.conf "$@"')
    assert coturn["tmpfs"] == ["/run/coturn:mode=0700,uid=65534,gid=65534"]
    # It relays into the compose network (ingest), and to no other private address.
    subnet = _compose()["networks"]["default"]["ipam"]["config"][0]["subnet"]
    first = subnet.split("/")[0].rsplit(".", 1)[0]
    assert f"--allowed-peer-ip={first}.0-{first}.255" in command
    assert "--denied-peer-ip=172.16.0.0-172.31.255.255" in command


def test_no_service_has_a_secret_on_its_command_line():
    """Every user of the host can read a process's command line (ps): secrets reach services
    only through their environment."""
    for name, service in _compose()["services"].items():
        line = _substituted(" ".join([*service.get("entrypoint", []),
                                      *service.get("command", [])]))
        for variable, secret in COMPOSE_VARIABLES.items():
            assert secret not in line, f"{name}'s command line carries {variable}"


def test_the_proxy_runs_the_repository_caddyfile():
    proxy = _compose()["services"]["proxy"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"ingest", "dashboard"} <= set(proxy["depends_on"])


def test_migrate_starts_from_the_entry_point_and_exits_0(settings):
    done = subprocess.run([*_local_entry_point(), *_command("migrate")],
                          env=_service_env("migrate", settings), capture_output=True, text=True,
                          timeout=START_TIMEOUT_S)
    assert done.returncode == 0, done.stderr


@dataclasses.dataclass
class Started:
    process: EconsultProcess
    url: str = ""

    def running(self) -> bool:
        return self.process.process.poll() is None


@pytest.fixture(scope="module")
def started(settings: Settings) -> Iterator[dict[str, Started]]:
    """ingest, the dashboard and a worker, each started as docker-compose.yml starts it, once
    each answers (or has exited)."""
    # Streams of their own: this worker would otherwise take entries other tests' workers wait
    # for, while this module runs.
    local = dataclasses.replace(settings, ingest_port=free_port(), dashboard_port=free_port(),
                                redis_prefix=f"{settings.redis_prefix}-compose")
    services = {name: Started(EconsultProcess(name, subprocess.Popen(
        [*_local_entry_point(), *_command(name)], env=_service_env(name, local))))
        for name in ("ingest", "dashboard", "worker")}
    services["ingest"].url = f"http://127.0.0.1:{local.ingest_port}"
    services["dashboard"].url = f"http://127.0.0.1:{local.dashboard_port}"
    # Without --name a worker is called host-pid.
    worker = f"{socket.gethostname()}-{services['worker'].process.process.pid}"
    keys = StreamKeys.for_prefix(local.redis_prefix)
    ready = {"ingest": lambda: health(services["ingest"].url) is not None,
             "dashboard": lambda: _status(services["dashboard"].url + "/login") == 200,
             "worker": lambda: worker in live_workers(client, keys)}
    with redis.Redis.from_url(settings.redis_url) as client:
        try:
            for name, answers in ready.items():
                wait_for(lambda answers=answers, name=name: answers()
                         or not services[name].running(), START_TIMEOUT_S, f"{name} to start")
            yield services
        finally:
            for service in services.values():
                service.process.stop()


def test_ingest_starts_from_the_entry_point(started):
    assert started["ingest"].running()
    assert health(started["ingest"].url)["status"] == "ok"


def test_the_dashboard_starts_from_the_entry_point(started):
    assert started["dashboard"].running()
    assert _status(started["dashboard"].url + "/login") == 200


def test_a_worker_starts_from_the_entry_point(started):
    assert started["worker"].running()  # and its heartbeat was seen (the fixture waited for it)


def test_the_sfu_starts_from_the_entry_point_with_its_api_on_one_address(settings, tmp_path):
    port = free_port()
    environment = _service_env("janus", settings) | {
        "ECONSULT_JANUS_URL": f"http://127.0.0.1:{port}/janus",
        "ECONSULT_JANUS_ADMIN_KEY": "k" * 32}
    janus = EconsultProcess("janus", subprocess.Popen(
        [*_local_entry_point(), *_command("janus")], env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL))
    try:
        wait_for(lambda: janus_answers(environment["ECONSULT_JANUS_URL"])
                 or janus.process.poll() is not None,
                 START_TIMEOUT_S, "Janus to answer")
        assert janus.process.poll() is None
    finally:
        assert janus.stop() == 0


@pytest.fixture(scope="module")
def caddy() -> str:
    found = shutil.which("caddy")
    if found is None:
        pytest.skip("caddy is not installed (scripts/test installs Debian's)")
    return found


@pytest.mark.parametrize("certificate", ["internal CA", "configured files"])
def test_the_proxy_configuration_is_valid(caddy, tmp_path, certificate):
    env = caddy_env(tmp_path)
    if certificate == "configured files":
        cert, key = make_certificate(tmp_path / "tls")
        env.update(ECONSULT_TLS_CERT=str(cert), ECONSULT_TLS_KEY=str(key))
    done = subprocess.run([caddy, "validate", "--config", str(CADDYFILE), "--adapter",
                           "caddyfile"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_the_proxy_serves_rooms_and_dashboard_at_one_https_origin(caddy, started, tmp_path):
    cert, key = make_certificate(tmp_path / "tls")
    port = free_port()
    env = {**caddy_env(tmp_path), "ECONSULT_DOMAIN": f"localhost:{port}",
           "ECONSULT_TLS_CERT": str(cert), "ECONSULT_TLS_KEY": str(key),
           "ECONSULT_INGEST_UPSTREAM": started["ingest"].url.removeprefix("http://"),
           "ECONSULT_DASHBOARD_UPSTREAM": started["dashboard"].url.removeprefix("http://"),
           "ECONSULT_PROXY_HTTP_PORT": str(free_port())}
    origin = f"https://localhost:{port}"
    trusted = ssl.create_default_context(cafile=str(cert))
    with (tmp_path / "caddy.log").open("wb") as log:
        proxy = subprocess.Popen([caddy, "run", "--config", str(CADDYFILE), "--adapter",
                                  "caddyfile"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _status(f"{origin}/login", trusted) == 200 or proxy.poll() is not None,
                 30, "Caddy to serve the dashboard")
        assert proxy.poll() is None, (tmp_path / "caddy.log").read_text()
        assert b"Sign in" in _get(f"{origin}/login", trusted)  # the dashboard
        assert b"/static/room.js" in _get(f"{origin}/room/intake-42", trusted)  # ingest
        assert b"WebSocket" in _get(f"{origin}/static/room.js", trusted)  # ingest's files
        assert b"healthz" not in _get(f"{origin}/healthz", trusted)  # ingest's stay inside
        # The room's WebSocket, upgraded through the proxy to ingest and answered there.
        answer = asyncio.run(_socket_answer(f"wss://localhost:{port}/room/intake-42/ws",
                                            origin, trusted))
        assert answer == {"type": "error", "message": "join the room first"}
    finally:
        proxy.terminate()
        proxy.wait(10)


def _entry_point() -> list[str]:
    """The Dockerfile's ENTRYPOINT (exec form)."""
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines()
                if line.startswith("ENTRYPOINT"))
    return json.loads(line.removeprefix("ENTRYPOINT"))


def _local_entry_point() -> list[str]:
    """The same entry point here: the console script `pip install -e .` made, as in the image."""
    program, *arguments = _entry_point()
    found = Path(sys.executable).parent / program
    assert found.is_file(), f"{program} is not installed beside {sys.executable}"
    return [str(found), *arguments]


def _command(service: str) -> list[str]:
    return _compose()["services"][service]["command"]


def _service_env(service: str, settings: Settings) -> dict[str, str]:
    """The service's compose environment, with this test run's PostgreSQL, Redis, streams and
    ports for the compose network's, and its servers on loopback only."""
    environment = _compose()["services"][service]["environment"]
    local = settings.to_env()
    return {**os.environ, **local, **_interpolated(environment),
            **{name: local[name] for name in ("DATABASE_URL", "REDIS_URL",
                                              "ECONSULT_REDIS_PREFIX", "ECONSULT_INGEST_PORT",
                                              "ECONSULT_DASHBOARD_PORT")},
            "ECONSULT_INGEST_HOST": "127.0.0.1", "ECONSULT_DASHBOARD_HOST": "127.0.0.1"}


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>\w+)(?:(?P<operator>:[-?+])(?P<argument>[^}]*))?\}"
                       r"|(?P<bare>[A-Za-z_]\w*))")


def _interpolated(environment: dict[str, str], given: dict[str, str] | None = None
                  ) -> dict[str, str]:
    return {name: _substituted(str(text), given) for name, text in environment.items()}


def _substituted(text: str, given: dict[str, str] | None = None) -> str:
    """Compose's $NAME, ${NAME}, ${NAME:-default}, ${NAME:?error}, ${NAME:+alternative} and $$
    (a $ left for the container's shell)."""
    given = COMPOSE_VARIABLES if given is None else given

    def value(match: re.Match) -> str:
        if match[0] == "$$":
            return "$"
        name = match["name"] or match["bare"]
        operator, argument = match["operator"], match["argument"]
        if operator == ":+":
            return argument if given.get(name) else ""
        if given.get(name):
            return given[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return _VARIABLE.sub(value, text)


def _status(url: str, context: ssl.SSLContext | None = None) -> int | None:
    try:
        with urllib.request.urlopen(url, context=context, timeout=2) as response:
            return response.status
    except OSError:
        return None


def _get(url: str, context: ssl.SSLContext) -> bytes:
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return response.read()


async def _socket_answer(url: str, origin: str, context: ssl.SSLContext) -> dict:
    async with aiohttp.ClientSession() as session, session.ws_connect(
            url, ssl=context, headers={"Origin": origin}, timeout=aiohttp.ClientWSTimeout(10)
    ) as socket_:
        await socket_.send_json({"type": "hello"})
        return await socket_.receive_json(timeout=10)
