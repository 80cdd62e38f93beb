"""What the dashboard reads: the analysts' views, so pages and SQL users see the same numbers."""

from __future__ import annotations

from sqlalchemy import Engine, text

_engine: Engine | None = None


def use(engine: Engine) -> None:
    """Set the database the pages read (once, when the app is made)."""
    global _engine
    _engine = engine


def recent_sessions(limit: int = 200) -> list[dict]:
    return _rows("""
        SELECT session_id, room, consultant, source, started_at, duration, participants,
               analysed_participants, frames, face_presence, quality
        FROM session_summary ORDER BY started_at DESC LIMIT :limit""", limit=limit)


def model_versions() -> list[str]:
    return [row["model_version"] for row in _rows(
        "SELECT DISTINCT model_version FROM samples ORDER BY model_version")]


def _rows(query: str, **parameters: object) -> list[dict]:
    if _engine is None:
        raise RuntimeError("dashboard.data.use(engine) was not called")
    with _engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(query), parameters).mappings()]
