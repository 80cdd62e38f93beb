"""The ICE servers a participant's peer connection is given: STUN to learn its public address,
and TURN to relay its media when no direct path exists (both peers behind NAT, a firewall
that lets only UDP to known servers through).

TURN relays for anyone holding a valid credential, so credentials are made per participant
and expire, with coturn's shared-secret scheme (its "TURN REST API": ``use-auth-secret`` and
``static-auth-secret`` in turnserver.conf). ingest and coturn share one secret and never talk:

- username   = ``"<expiry>:<user>"``, expiry in Unix seconds (now + ``turn_credential_s``);
- credential = base64(HMAC-SHA1(secret, username)).

coturn recomputes the HMAC from the username it is given and refuses the allocation when it
does not match or when the expiry has passed. The username reaches the TURN server's logs:
give an opaque participant id as ``user``, never a person's name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from contracts.settings import Settings


def ice_servers(settings: Settings, user: str, now: float | None = None) -> list[dict[str, Any]]:
    """RTCIceServer dictionaries, as a browser's ``RTCPeerConnection`` takes them, for ``user``.

    STUN URLs come from ``ice_servers``; TURN URLs from ``turn_urls``, with credentials valid
    ``turn_credential_s`` seconds from ``now`` (Unix seconds; the current time if not given).
    """
    servers: list[dict[str, Any]] = []
    if settings.ice_server_urls:
        servers.append({"urls": settings.ice_server_urls})
    turn_urls = [url.strip() for url in settings.turn_urls.split(",") if url.strip()]
    if not turn_urls:
        return servers
    if not settings.turn_secret:
        raise ValueError("ECONSULT_TURN_URLS is set but ECONSULT_TURN_SECRET is not; set it to "
                         "the TURN server's static-auth-secret (coturn's use-auth-secret).")
    if settings.turn_credential_s <= 0:
        raise ValueError(f"ECONSULT_TURN_CREDENTIAL_S={settings.turn_credential_s} would make "
                         "TURN credentials that have already expired; give a positive number "
                         "of seconds (3600 by default).")
    expiry = int(time.time() if now is None else now) + settings.turn_credential_s
    username = f"{expiry}:{user}"
    servers.append({"urls": turn_urls, "username": username,
                    "credential": turn_credential(settings.turn_secret, username)})
    return servers


def turn_credential(secret: str, username: str) -> str:
    """The password coturn expects for ``username`` under ``static-auth-secret=secret``."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
