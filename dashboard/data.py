"""What the dashboard reads: the analysts' views, so pages and SQL users see the same numbers.

A manager sees every session; a consultant only the sessions they led (``_MINE``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from contracts.consent import consent_state_sql
from contracts.labels import EMOTIONS
from contracts.people import label_sql
from contracts.quality import POSITIVITY_SQL
from contracts.settings import Settings
from contracts.smoothing import WINDOW_S, leading_sql, smoothed_sql
from dashboard.auth import current_account

# Participants with their label and consent state; queries add the WHERE clause.
_PEOPLE = (f"SELECT p.*, {label_sql('p')} AS label, {consent_state_sql('p')} AS consent "
           "FROM participants p")

# Rows of sessions the signed-in person may see (``consultant`` of sessions or their views).
_MINE = "(CAST(:viewer AS text) IS NULL OR consultant = :viewer)"

_engine: Engine | None = None
settings: Settings = Settings()


def use(engine: Engine, app_settings: Settings) -> None:
    """Set the database the pages read and the settings they follow (once, at start)."""
    global _engine, settings
    _engine, settings = engine, app_settings


def database() -> Engine:
    if _engine is None:
        raise RuntimeError("dashboard.data.use(engine) was not called")
    return _engine


def recent_sessions(limit: int = 200) -> list[dict]:
    return _rows(f"""
        SELECT session_id, room, consultant, source, started_at, duration, participants,
               analysed_participants, frames, face_presence, quality
        FROM session_summary WHERE {_MINE}
        ORDER BY started_at DESC LIMIT :limit""", limit=limit)


def model_versions() -> list[str]:
    return [row["model_version"] for row in _rows(
        "SELECT DISTINCT model_version FROM samples ORDER BY model_version")]


def _rows(query: str, **parameters: object) -> list[dict]:
    account = current_account()
    viewer = None if account.manager else account.username
    with database().connect() as conn:
        return [dict(row) for row in
                conn.execute(text(query), {"viewer": viewer, **parameters}).mappings()]


def session_length(session_id: str) -> timedelta | None:
    """How long the session ran (so far, if it still runs); None if there is no such session."""
    rows = _rows("SELECT coalesce(ended_at, now()) - started_at AS length FROM sessions "
                 f"WHERE id = :id AND {_MINE}", id=session_id)
    return rows[0]["length"] if rows else None


def session(session_id: str) -> dict | None:
    rows = _rows(f"SELECT * FROM session_summary WHERE session_id = :id AND {_MINE}",
                 id=session_id)
    return rows[0] if rows else None


def participants(session_id: str) -> list[dict]:
    """Everyone in the session, consultant first, then in the order they joined, with a label
    that tells two people of one name apart and their consent (contracts.consent)."""
    return _rows("""
        SELECT participant_id, label, display_name, role, joined_at, left_at, consent, frames,
               frames_missing, face_presence, facing_screen, others_in_view, faces, quality
        FROM participant_summary WHERE session_id = :id
        ORDER BY role <> 'consultant', joined_at, participant_id""", id=session_id)


def consent_changes(session_id: str) -> list[dict]:
    """Every time someone in the session gave or withdrew consent, in order."""
    return _rows("""
        SELECT c.participant_id, c.at, c.given
        FROM consent_changes c JOIN participants p ON p.id = c.participant_id
        WHERE p.session_id = :id ORDER BY c.participant_id, c.at""", id=session_id)


def timeline(session_id: str, bucket_s: int) -> list[dict]:
    """Per client or student and time bucket: mean probabilities, quality, face presence and
    facing the screen."""
    return _rows(f"""
        WITH s AS (SELECT started_at FROM sessions WHERE id = :id),
        frames AS (
            SELECT participant_id, date_bin(make_interval(secs => :bucket), captured_at,
                                            (SELECT started_at FROM s)) AS bucket,
                   avg(face_found::int)::float8 AS face_presence,
                   avg(coalesce(facing_screen, false)::int)::float8 AS facing_screen,
                   avg((others_in_view > 0)::int)::float8 AS others_in_view
            FROM samples WHERE session_id = :id GROUP BY 1, 2
        ), faces AS (
            SELECT participant_id, date_bin(make_interval(secs => :bucket), captured_at,
                                            (SELECT started_at FROM s)) AS bucket,
                   avg({POSITIVITY_SQL}) AS quality,
                   {", ".join(f"avg({e}) AS {e}" for e in EMOTIONS)}
            FROM emotion_events WHERE session_id = :id GROUP BY 1, 2
        ), people AS ({_PEOPLE} WHERE p.session_id = :id)
        SELECT p.id AS participant_id, p.label AS participant, frames.bucket,
               frames.face_presence, frames.facing_screen, frames.others_in_view, faces.quality,
               {", ".join(f"faces.{e}" for e in EMOTIONS)}
        FROM frames JOIN people p ON p.id = frames.participant_id
        LEFT JOIN faces USING (participant_id, bucket)
        WHERE p.role <> 'consultant'
        ORDER BY p.joined_at, p.id, frames.bucket""", id=session_id, bucket=bucket_s)


def dominant_shares(session_id: str) -> list[dict]:
    """Per client or student: the share of their faces at which each expression led their live
    reading (contracts.smoothing), as the consultant saw it."""
    return _rows("""
        SELECT r.participant_id, r.leading_expression::text AS emotion,
               count(*)::float8 / sum(count(*)) OVER (PARTITION BY r.participant_id) AS share
        FROM emotion_readings r JOIN participants p ON p.id = r.participant_id
        WHERE r.session_id = :id AND p.role <> 'consultant'
        GROUP BY r.participant_id, r.leading_expression
        ORDER BY r.participant_id, share DESC""", id=session_id)


def consultants() -> list[str]:
    return [r["consultant"] for r in _rows(
        "SELECT DISTINCT consultant FROM sessions WHERE consultant IS NOT NULL "
        f"AND {_MINE} ORDER BY 1")]


def history(consultant: str | None, start: str | None, end: str | None,
            min_quality: float | None) -> list[dict]:
    """Sessions matching the filters, newest first (``start``/``end`` are ISO dates)."""
    return _rows(f"""
        SELECT session_id, room, consultant, started_at, duration, participants, frames,
               face_presence, quality
        FROM session_summary
        WHERE {_MINE}
          AND (CAST(:consultant AS text) IS NULL OR consultant = :consultant)
          AND (CAST(:start AS date) IS NULL OR started_at >= CAST(:start AS date))
          AND (CAST(:end AS date) IS NULL OR started_at < CAST(:end AS date) + 1)
          AND (CAST(:min_quality AS float8) IS NULL OR quality >= :min_quality)
        ORDER BY started_at DESC LIMIT 500""",
        consultant=consultant, start=start, end=end, min_quality=min_quality)


def weekly_quality(start: str | None, end: str | None) -> list[dict]:
    """Per consultant and week: sessions held and their mean quality score."""
    return _rows(f"""
        SELECT consultant, date_trunc('week', started_at) AS week, count(*) AS sessions,
               avg(quality) AS quality, avg(face_presence) AS face_presence
        FROM session_summary
        WHERE consultant IS NOT NULL AND faces > 0 AND {_MINE}
          AND (CAST(:start AS date) IS NULL OR started_at >= CAST(:start AS date))
          AND (CAST(:end AS date) IS NULL OR started_at < CAST(:end AS date) + 1)
        GROUP BY consultant, week ORDER BY consultant, week""", start=start, end=end)


def live(window_s: int, alert_s: float) -> list[dict]:
    """Per client or student of each running session: the live reading at their latest face
    (contracts.smoothing), the negative share over the alert window, and face presence, facing
    the screen and others in view over the last 30 s."""
    return _rows(f"""
        WITH running AS (
            SELECT id, room FROM sessions
            WHERE ended_at IS NULL AND started_at > now() - interval '12 hours'
              AND {_MINE}
        ), people AS ({_PEOPLE} WHERE p.session_id IN (SELECT id FROM running)
        ), readings AS (
            SELECT e.participant_id, e.captured_at,
                   {", ".join(f"{smoothed_sql(x)} AS {x}" for x in EMOTIONS)}
            FROM emotion_events e JOIN running r ON r.id = e.session_id
            -- the reading at the window's first face needs the seconds before it
            WHERE e.captured_at > now() - make_interval(secs => :window + {WINDOW_S})
        ), latest AS (
            SELECT DISTINCT ON (r.participant_id) r.*, {leading_sql("r")} AS dominant
            FROM readings r WHERE r.captured_at > now() - make_interval(secs => :window)
            ORDER BY r.participant_id, r.captured_at DESC
        ), recent AS (
            SELECT e.participant_id, avg(1 - ({POSITIVITY_SQL}) / 100) AS negative,
                   min(e.captured_at) AS since
            FROM emotion_events e JOIN running r ON r.id = e.session_id
            WHERE e.captured_at > now() - make_interval(secs => :alert)
            GROUP BY e.participant_id
        ), presence AS (
            SELECT s.participant_id, avg(s.face_found::int)::float8 AS face_presence,
                   avg(coalesce(s.facing_screen, false)::int)::float8 AS facing_screen,
                   max(s.others_in_view) AS others_in_view
            FROM samples s JOIN running r ON r.id = s.session_id
            WHERE s.captured_at > now() - interval '30 seconds' GROUP BY s.participant_id
        )
        SELECT r.id AS session_id, r.room, p.id AS participant_id, p.label, p.consent,
               latest.captured_at, {", ".join(f"latest.{x}" for x in EMOTIONS)},
               latest.dominant, recent.negative, recent.since, presence.face_presence,
               presence.facing_screen, presence.others_in_view
        FROM running r JOIN people p ON p.session_id = r.id
        LEFT JOIN latest ON latest.participant_id = p.id
        LEFT JOIN recent ON recent.participant_id = p.id
        LEFT JOIN presence ON presence.participant_id = p.id
        WHERE p.role <> 'consultant' AND p.left_at IS NULL
        ORDER BY r.room, r.id, p.joined_at, p.id""", window=window_s, alert=alert_s)


def live_timeline(window_s: int, bucket_s: int) -> list[dict]:
    """Per running session, client or student and ``bucket_s`` over the last ``window_s``:
    the quality score."""
    return _rows(f"""
        WITH people AS ({_PEOPLE} WHERE p.session_id IN (
            SELECT id FROM sessions WHERE ended_at IS NULL AND {_MINE}))
        SELECT e.session_id, e.participant_id, p.label,
               date_bin(make_interval(secs => :bucket), e.captured_at, now()) AS bucket,
               avg({POSITIVITY_SQL}) AS quality
        FROM emotion_events e
        JOIN people p ON p.id = e.participant_id AND p.role <> 'consultant'
        WHERE e.captured_at > now() - make_interval(secs => :window)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4""", window=window_s, bucket=bucket_s)
