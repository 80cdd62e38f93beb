"""Who is asking: behind a trusted proxy, a client is the address the proxy saw; the
X-Forwarded-For of anyone else is ignored."""

from __future__ import annotations

import pytest

from contracts.proxy import client_address


@pytest.mark.parametrize("trusted, peer, forwarded, client", [
    ("", "203.0.113.7", "198.51.100.1", "203.0.113.7"),  # no proxy trusted: the header is ignored
    ("172.30.57.10", "172.30.57.10", "198.51.100.1", "198.51.100.1"),
    ("172.30.57.10", "203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not the proxy
    ("*", "172.30.57.10", "10.0.0.1, 198.51.100.1", "198.51.100.1"),  # the proxy's own entry
    ("*", "172.30.57.10", "", "172.30.57.10"),  # the proxy's own request
])
def test_a_client_is_the_address_a_trusted_proxy_saw(trusted, peer, forwarded, client):
    assert client_address(peer, forwarded, trusted) == client
