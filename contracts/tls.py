"""HTTPS for econsult's own web servers (ingest and the dashboard): one certificate and its key,
``ECONSULT_TLS_CERT`` and ``ECONSULT_TLS_KEY``, both PEM files. Neither set: plain HTTP (behind
a TLS proxy, or on a developer's machine)."""

from __future__ import annotations

import ssl
from pathlib import Path

from contracts.settings import Settings, SettingsError

CERT, KEY = "ECONSULT_TLS_CERT", "ECONSULT_TLS_KEY"


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """A server-side TLS context with the configured certificate, or None when none is set.

    Raises ``SettingsError`` with a sentence saying what to set when only one of the two is
    set, or when a file is missing, unreadable or not a PEM certificate and its matching key.
    """
    cert, key = settings.tls_cert, settings.tls_key
    if not cert and not key:
        return None
    if not cert or not key:
        given, missing = (CERT, KEY) if cert else (KEY, CERT)
        raise SettingsError(f"{given} is set but {missing} is not: set both (a PEM certificate "
                            "and its private key) to serve HTTPS, or neither to serve HTTP")
    for name, path in ((CERT, cert), (KEY, key)):
        if not Path(path).is_file():
            raise SettingsError(f"{name}={path!r} is not a file; set it to the PEM file's path")
    # Purpose.CLIENT_AUTH: the context of a server (TLS 1.2 and later, no client certificates).
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        detail = f" ({exc.reason.lower().replace('_', ' ')})" if exc.reason else ""
        raise SettingsError(f"{CERT}={cert!r} and {KEY}={key!r} are not a PEM certificate and "
                            f"its matching private key{detail}; check both files") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {exc.filename or cert!r} ({exc.strerror}); let "
                            f"econsult's user read {CERT} and {KEY}") from None
    return context
