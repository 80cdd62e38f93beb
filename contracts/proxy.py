"""Who is asking, behind the TLS proxy: the one rule both services use, ingest to count each
client's room connections and the dashboard to slow each client's failed sign-ins."""

from __future__ import annotations


def client_address(peer: str | None, forwarded_for: str, trusted_proxies: str) -> str:
    """The peer, or, when the peer is a trusted proxy (``ECONSULT_TRUSTED_PROXIES``), the
    address its ``forwarded_for`` (X-Forwarded-For) names last: the one the proxy itself saw;
    earlier ones the client could have written."""
    peer = peer or "unknown"
    trusted = {address.strip() for address in trusted_proxies.split(",") if address.strip()}
    forwarded = forwarded_for.split(",")[-1].strip()
    if forwarded and ("*" in trusted or peer in trusted):
        return forwarded
    return peer
