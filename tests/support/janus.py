"""A Janus of a test's own, started as econsult runs it (deploy/janus/run, with deploy/janus's
configuration), its API on a free port of 127.0.0.1, stopped with the test.

WebRTC peers on one machine meet over its non-loopback address (Janus gathers no loopback
candidates, and aioice offers none), so Janus's ICE is held to that address."""

from __future__ import annotations

import json
import os
import random
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from ingest.janus import API_ORIGIN
from tests.support.daemons import Daemon
from tests.support.network import machine_ipv4
from tests.support.processes import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "janus"
# Media ports come from a small range of their own (one per PeerConnection), so a run does not
# sweep the machine's ports; OwnTurn's relays take 40000-48999.
RTP_PORTS = 32
_LISTENING = "0A"  # a TCP socket's state in /proc/net/tcp


class OwnJanus(Daemon):
    """``janus`` with econsult's configuration; ``url`` is its API, ``admin_key`` creates rooms."""

    name = "Janus"
    start_timeout_s = 15.0

    def __init__(self, folder: Path, *options: str) -> None:
        """``options`` are janus's own command-line options, added to the launcher's."""
        super().__init__(folder / "janus.log")
        self.ip = machine_ipv4()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/janus"
        self.admin_key = secrets.token_urlsafe(32)
        first = random.randrange(50_000, 59_000, RTP_PORTS)
        self.rtp_ports = range(first, first + RTP_PORTS)
        self.configuration = folder / "configuration"  # written by the launcher, private
        self._options = options

    @property
    def command(self) -> list[str]:
        return [str(DEPLOY / "run"), str(self.configuration),
                f"--rtp-port-range={self.rtp_ports[0]}-{self.rtp_ports[-1]}",
                f"--ice-enforce-list={self.ip}", *self._options]

    def environment(self) -> dict[str, str]:
        return os.environ | {"ECONSULT_JANUS_ADMIN_KEY": self.admin_key,
                             "ECONSULT_JANUS_HTTP_IP": "127.0.0.1",
                             "ECONSULT_JANUS_HTTP_PORT": str(self.port)}

    def answers(self) -> bool:
        return self.info() is not None

    def info(self) -> dict | None:
        """Janus's ``/janus/info`` answer, or None while it does not answer."""
        request = urllib.request.Request(f"{self.url}/info", headers={"Origin": API_ORIGIN})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return json.load(response)
        except (OSError, ValueError):
            return None

    def rooms(self) -> list[str]:
        """The descriptions (econsult's room names) of the VideoRooms Janus holds now, private
        ones included (the admin key lists them)."""
        listed = self._videoroom({"request": "list", "admin_key": self.admin_key})
        return sorted(room["description"] for room in listed["list"])

    def kick(self, room: str, feed: str) -> None:
        """Janus hangs up the PeerConnection of the publisher ``feed`` in ``room`` (a session's
        id) and drops them from it, as it would a peer gone silent; the room goes on."""
        # econsult's rooms have the admin key for their secret (ingest/videoroom.py).
        self._videoroom({"request": "kick", "room": room, "id": feed, "secret": self.admin_key})

    def _videoroom(self, request: dict) -> dict:
        """The VideoRoom plugin's answer to ``request``, over a Janus session of the test's own."""
        session = self._post(self.url, {"janus": "create"})["data"]["id"]
        try:
            handle = self._post(f"{self.url}/{session}", {
                "janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]
            reply = self._post(f"{self.url}/{session}/{handle}",
                               {"janus": "message", "body": request})
            answer = reply["plugindata"]["data"]
            if "error" in answer:
                raise RuntimeError(f"Janus refused {request['request']!r}: {answer['error']}")
            return answer
        finally:
            self._post(f"{self.url}/{session}", {"janus": "destroy"})

    def _post(self, url: str, body: dict) -> dict:
        request = urllib.request.Request(
            url, data=json.dumps(body | {"transaction": secrets.token_hex(6)}).encode(),
            headers={"Origin": API_ORIGIN, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def listening(self) -> set[tuple[str, int]]:
        """The (IPv4 address, port) pairs Janus's process accepts TCP connections on."""
        sockets = set()
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                sockets.add(target[len("socket:["):-1])
        found = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == _LISTENING and fields[9] in sockets:
                    found.add(_address(fields[1]))
        return found


def _address(hex_address: str) -> tuple[str, int]:
    """``0100007F:1F90`` (as /proc/net/tcp writes it) as ("127.0.0.1", 8080); IPv6 as hex."""
    host, port = hex_address.split(":")
    if len(host) == 8:
        host = ".".join(str(b) for b in reversed(bytes.fromhex(host)))
    return host, int(port, 16)
