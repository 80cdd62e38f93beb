"""Session summaries written as a worker writes them (worker/summaries.py), for tests that store
sessions directly and read them on the Sessions and History pages."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.support.processes import wait_for
from worker.summaries import BATCH, refresh_summaries


def summarise(engine: Engine) -> None:
    """Bring every session's summary up to date (after a worker's own refresh, if one holds
    the lock)."""
    def refreshed() -> bool:
        with engine.begin() as conn:
            done = refresh_summaries(conn)
        return done is not None and done < BATCH
    wait_for(refreshed, 60, "the session summaries to be refreshed")
