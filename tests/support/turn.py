"""A TURN relay of a test's own: Debian's coturn (``turnserver``) with the shared-secret scheme
econsult's credentials are made for, on a port of its own, stopped with the test.

WebRTC peers on one machine meet over its non-loopback address (neither Chromium nor aioice
offers 127.0.0.1 candidates), so the relay listens and relays on that address."""

from __future__ import annotations

import os
import random
import secrets
import socket
from pathlib import Path

from tests.support.daemons import Daemon
from tests.support.network import machine_ipv4
from tests.support.processes import free_port

REALM = "econsult.test"
# Relay ports come from a small range of their own, so a run does not sweep the machine's ports.
RELAY_PORTS = 16
# A STUN Binding request (RFC 8489): type, length 0, magic cookie, then a transaction id.
_BINDING_REQUEST = bytes.fromhex("0001" "0000" "2112a442")
_BINDING_SUCCESS = bytes.fromhex("0101")


class OwnTurn(Daemon):
    """``turnserver`` relaying over UDP for whoever holds a credential made from ``secret``."""

    name = "coturn"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder / "turnserver.log")
        self.ip = machine_ipv4()
        self.port = free_port()
        self.secret = secrets.token_urlsafe(24)
        self.url = f"turn:{self.ip}:{self.port}?transport=udp"
        first = random.randrange(40_000, 49_000, RELAY_PORTS)
        self.relay_ports = range(first, first + RELAY_PORTS)
        self._folder = folder
        # The secret goes in a file of this user's only, not on the command line, where every
        # user of the machine could read it (ps), as docker-compose.yml gives coturn its own.
        self._configuration = folder / "turnserver.conf"
        with os.fdopen(os.open(self._configuration, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                               0o600), "w") as configuration:
            configuration.write(f"static-auth-secret={self.secret}\n")

    @property
    def command(self) -> list[str]:
        return ["turnserver", "-c", str(self._configuration),  # not /etc/turnserver.conf
                f"--listening-ip={self.ip}", f"--relay-ip={self.ip}",
                f"--listening-port={self.port}",
                f"--min-port={self.relay_ports[0]}", f"--max-port={self.relay_ports[-1]}",
                "--use-auth-secret", f"--realm={REALM}",
                "--no-tls", "--no-dtls", "--no-cli",
                f"--pidfile={self._folder / 'turnserver.pid'}",
                f"--userdb={self._folder / 'turndb'}",
                "--log-file=stdout", "--simple-log"]

    def answers(self) -> bool:
        """True once coturn answers a STUN Binding request (it needs no credentials)."""
        transaction = os.urandom(12)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.2)
            try:
                probe.sendto(_BINDING_REQUEST + transaction, (self.ip, self.port))
                reply = probe.recv(2048)
            except OSError:  # timeout, or ICMP port unreachable while it starts
                return False
        return reply[:2] == _BINDING_SUCCESS and reply[8:20] == transaction

