"""Every setting of every service, read from the environment, with defaults that work locally."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "worker" / "weights" / "emotion.tflite"


class SettingsError(ValueError):
    """An environment variable holds a value econsult cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/econsult"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every Redis key starts with this, so several deployments (or test runs) share one Redis.
    redis_prefix: str = "econsult"
    sample_fps: float = 2.0
    frame_max_width: int = 640
    jpeg_quality: int = 80
    # Approximate cap on the frames stream; older entries are trimmed so memory stays bounded.
    stream_maxlen: int = 10_000
    model_path: str = str(DEFAULT_MODEL_PATH)
    worker_batch: int = 32
    # Model threads per worker: one thread per process, and more processes, serves best.
    worker_threads: int = 1
    worker_block_ms: int = 1_000
    # A worker lets a batch gather until its first entry is this old: every batch costs a few
    # round trips to Redis and PostgreSQL whatever its size, and a class's frames arrive one
    # by one. Adds at most this much to the time from capture to storage.
    worker_gather_ms: int = 150
    # A pending entry idle this long belongs to a worker presumed dead and is claimed by another.
    claim_idle_ms: int = 30_000
    # An entry delivered this many times without success goes to the dead-letter stream.
    max_deliveries: int = 5
    workers: int = 2
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8080
    # Where browsers reach this ingest's rooms when several ingests share them (each with its own
    # Janus), as a path behind the shared proxy (e.g. /ingest/b); empty when it is the only one.
    ingest_address: str = ""
    # Comma-separated STUN URLs given to browsers and to the server's peer connections.
    ice_servers: str = ""
    # Comma-separated TURN URLs (coturn) relaying for participants behind NAT; each participant
    # gets credentials valid this long, made from the shared secret (coturn's use-auth-secret).
    turn_urls: str = ""
    turn_secret: str = ""
    turn_credential_s: int = 3600
    # The SFU (Janus's HTTP API) that carries the calls, and the VideoRoom admin key econsult
    # creates rooms with (``econsult janus`` starts Janus with it).
    janus_url: str = "http://127.0.0.1:8088/janus"
    janus_admin_key: str = ""
    room_capacity: int = 51
    # Room connections one address may hold at once (a clinic behind one NAT needs several).
    connections_per_client: int = 20
    # Addresses of the TLS proxies in front of ingest and the dashboard (comma-separated, or *
    # when nothing else can reach them): their X-Forwarded-For names the client, whose room
    # connections are then counted and whose failed sign-ins slowed (contracts.proxy).
    trusted_proxies: str = ""
    # Frames not yet read by the workers beyond which ingest drops new samples (and counts them).
    stream_lag_budget: int = 500
    # An analysis track that sends nothing for this long is closed (and subscribed again). A
    # camera sends several frames a second, even a disabled one; a subscription that never got
    # going (made just as a frozen Janus came back, say) is made again within 10 s.
    track_silence_s: float = 5.0
    # A session nothing is heard of for this long is closed as silent (its producer died).
    session_silence_s: float = 600.0
    # How often a worker brings the session summaries that lists and trends read up to date.
    summary_every_s: float = 30.0
    # How long frames, faces and speech segments are kept, and sessions with their summaries
    # (contracts/retention.py says why these defaults).
    retention_days: float = 90.0
    summary_retention_days: float = 730.0
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8050
    # Where people reach the rooms and the dashboard (links in invitations, sign-in redirects);
    # unset, the host and port each listens on. Behind a TLS proxy: its https:// address.
    room_url: str = ""
    dashboard_url: str = ""
    # A certificate and its key (PEM files): ingest and the dashboard then serve HTTPS.
    tls_cert: str = ""
    tls_key: str = ""
    # How long an invitation link and a sign-in last.
    invitation_hours: float = 72.0
    sign_in_hours: float = 12.0
    # The live view alerts when a client's faces read this negative, on average, this long.
    alert_negative: float = 0.6
    alert_seconds: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from ``ECONSULT_*`` variables, ``DATABASE_URL`` and ``REDIS_URL``."""
        env = os.environ if env is None else env
        values = {}
        for field in fields(cls):
            name = _env_name(field.name)
            if name not in env:
                continue
            raw = env[name]
            kind = type(getattr(cls, field.name))
            try:
                values[field.name] = kind(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}; "
                                    "unset it or give a number.") from None
        return cls(**values)

    @property
    def ice_server_urls(self) -> list[str]:
        return [url.strip() for url in self.ice_servers.split(",") if url.strip()]

    @property
    def public_room_url(self) -> str:
        return self.room_url.rstrip("/") or self._own_url(self.ingest_host, self.ingest_port)

    @property
    def public_dashboard_url(self) -> str:
        return (self.dashboard_url.rstrip("/")
                or self._own_url(self.dashboard_host, self.dashboard_port))

    def _own_url(self, host: str, port: int) -> str:
        return f"{'https' if self.tls_cert else 'http'}://{host}:{port}"

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for starting another econsult process."""
        return {_env_name(f.name): str(getattr(self, f.name)) for f in fields(self)}


def _env_name(field_name: str) -> str:
    if field_name in ("database_url", "redis_url"):
        return field_name.upper()
    return f"ECONSULT_{field_name.upper()}"


def env_table() -> list[tuple[str, str]]:
    """(variable, default) for every setting, for the README and ``econsult up``."""
    return [(_env_name(f.name), str(f.default)) for f in fields(Settings)]
