"""This machine's address as other hosts see it: WebRTC peers here meet over it (neither
Chromium nor aioice offers 127.0.0.1 candidates), so relays and HTTPS tests use it too."""

from __future__ import annotations

import socket


def machine_ipv4() -> str:
    """The machine's own non-loopback IPv4 address: the one it would reach other hosts from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # Connecting a UDP socket only picks a route and a source address; nothing is sent.
            probe.connect(("198.51.100.1", 9))
            address = probe.getsockname()[0]
        except OSError:  # no default route: fall back on what the host name resolves to
            address = ""
    if address and not address.startswith("127."):
        return address
    for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
        if not sockaddr[0].startswith("127."):
            return sockaddr[0]
    raise RuntimeError("this machine has no non-loopback IPv4 address; WebRTC peers here "
                       "(Chromium, aioice) meet over one, and so must the TURN relay")
