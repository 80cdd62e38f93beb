"""Connections to PostgreSQL, shared by the worker, the CLI and the dashboard."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, make_url, text

# A PostgreSQL that does not answer (down, frozen, cut off) is an outage to say and wait out
# (contracts/outage.py), not a silent wait: connecting gives up after CONNECT_TIMEOUT_S, and TCP
# keepalives find a connection the network lost (~25 s) even while a statement waits on it.
CONNECT_TIMEOUT_S = 5
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}


def engine_for(database_url: str, work_mem: str | None = None) -> Engine:
    """An engine; ``work_mem`` (e.g. "64MB") lets aggregating queries sort in memory."""
    options = {"options": f"-c work_mem={work_mem}"} if work_mem else {}
    return create_engine(database_url, pool_pre_ping=True,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S, **KEEPALIVES,
                                       **options})


def create_database_if_missing(database_url: str) -> bool:
    """Create the database named in the URL; True when it was created now."""
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
            return not exists
    finally:
        admin.dispose()


def drop_database(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
