"""A TURN relay of a test's own: Debian's coturn (``turnserver``) with the shared-secret scheme
econsult's credentials are made for, on a port of its own, stopped with the test.

WebRTC peers on one machine meet over its non-loopback address (neither Chromium nor aioice
offers 127.0.0.1 candidates), so the relay listens and relays on that address."""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
from pathlib import Path

from bench.processes import free_port, wait_for
from tests.support.network import machine_ipv4

REALM = "econsult.test"
# Relay ports come from a small range of their own, so a run does not sweep the machine's ports.
RELAY_PORTS = 16
START_TIMEOUT_S = 10.0
# A STUN Binding request (RFC 8489): type, length 0, magic cookie, then a transaction id.
_BINDING_REQUEST = bytes.fromhex("0001" "0000" "2112a442")
_BINDING_SUCCESS = bytes.fromhex("0101")


class OwnTurn:
    """``turnserver`` relaying over UDP for whoever holds a credential made from ``secret``."""

    def __init__(self, folder: Path) -> None:
        self.ip = machine_ipv4()
        self.port = free_port()
        self.secret = secrets.token_urlsafe(24)
        self.url = f"turn:{self.ip}:{self.port}?transport=udp"
        first = random.randrange(40_000, 49_000, RELAY_PORTS)
        self.relay_ports = range(first, first + RELAY_PORTS)
        self._folder = folder
        self.log = folder / "turnserver.log"
        self._process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        return ["turnserver", "-n",  # no configuration file: /etc/turnserver.conf is not ours
                f"--listening-ip={self.ip}", f"--relay-ip={self.ip}",
                f"--listening-port={self.port}",
                f"--min-port={self.relay_ports[0]}", f"--max-port={self.relay_ports[-1]}",
                "--use-auth-secret", f"--static-auth-secret={self.secret}", f"--realm={REALM}",
                "--no-tls", "--no-dtls", "--no-cli",
                f"--pidfile={self._folder / 'turnserver.pid'}",
                f"--userdb={self._folder / 'turndb'}",
                "--log-file=stdout", "--simple-log"]

    def start(self) -> OwnTurn:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: self._answers() or self._process.poll() is not None,
                     START_TIMEOUT_S, f"coturn to answer on {self.ip}:{self.port}")
        except TimeoutError as late:
            self.stop()  # it keeps running when it cannot listen: its log says why
            raise TimeoutError(f"{late}; {self.log} ends:\n{self._log_tail()}") from None
        if self._process.poll() is not None:
            raise RuntimeError(f"turnserver exited with code {self._process.returncode}; "
                               f"{self.log} ends:\n{self._log_tail()}")
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _answers(self) -> bool:
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

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
