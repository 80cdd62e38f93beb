"""What the dashboard reads: the analysts' views, so pages and SQL users see the same numbers.
Lists and trends over months read ``session_summaries``, the view's rows kept current by the
workers (worker/summaries.py); a session's own pages read its frames.

A manager sees every session; a consultant only the sessions they led (``_MINE``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from contracts.alert import AlertRule
from contracts.consent import consent_state_sql, ever_given_sql
from contracts.labels import EMOTIONS
from contracts.people import label_sql
from contracts.quality import POSITIVITY_SQL
from contracts.retention import raw_expired, raw_expired_sql
from contracts.schema import ParticipantSummaryRow
from contracts.settings import Settings
from contracts.smoothing import HISTORY_S, readings_sql
from dashboard.auth import current_account

# Rows of sessions the signed-in person may see (``consultant`` of sessions or their views).
_MINE = "(CAST(:viewer AS text) IS NULL OR consultant = :viewer)"
# Participants with their label and consent states (face, voice); queries add the WHERE clause.
_PEOPLE = (f"SELECT p.*, {label_sql('p')} AS label, {consent_state_sql('p')} AS consent, "
           f"{consent_state_sql('p', 'voice')} AS voice_consent FROM participants p")
# Speech is analysed for anyone who agreed to voice analysis at some time (contracts.consent).
_VOICED = ever_given_sql("p", "voice")
# The sessions running now, of those the signed-in person may see.
_RUNNING = f"""SELECT id, room FROM sessions
            WHERE ended_at IS NULL AND started_at > now() - interval '12 hours' AND {_MINE}"""

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
        FROM session_summaries WHERE {_MINE}
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
    """The session's summary, with ``detail_expired`` when the retention policy may have
    deleted its frames: its summary is then the one kept (contracts.retention)."""
    rows = _rows(f"SELECT * FROM session_summary WHERE session_id = :id AND {_MINE}",
                 id=session_id)
    if not rows:
        return None
    expired = raw_expired(rows[0]["started_at"], settings.retention_days)
    kept = _rows("SELECT * FROM session_summaries WHERE session_id = :id",
                 id=session_id) if expired else []
    return {**(kept or rows)[0], "detail_expired": expired}


def participants(session_id: str) -> list[dict]:
    """Everyone in the session, consultant first, then in the order they joined, with a label
    that tells two people of one name apart, their consent to face analysis
    (contracts.consent) and their latest consent to voice analysis and withdrawal of it."""
    # Once the session's frames may be gone, its people's kept summaries.
    return _rows(f"""
        WITH expired AS (
            SELECT {raw_expired_sql("started_at", settings.retention_days)} AS gone
            FROM sessions WHERE id = :id
        ), summaries AS (
            SELECT * FROM participant_summary WHERE session_id = :id
                AND NOT (SELECT gone FROM expired)
            UNION ALL
            SELECT {", ".join(c.name for c in ParticipantSummaryRow.__table__.columns
                              if c.name != "summarised_at")}
            FROM participant_summaries WHERE session_id = :id AND (SELECT gone FROM expired)
        )
        SELECT s.participant_id, s.label, s.display_name, s.role, s.joined_at, s.left_at,
               s.consent, p.voice_consent_at, p.voice_consent_withdrawn_at, s.frames,
               s.frames_missing, s.face_presence, s.facing_screen, s.others_in_view, s.faces,
               s.quality
        FROM summaries s JOIN participants p ON p.id = s.participant_id
        ORDER BY s.role <> 'consultant', s.joined_at, s.participant_id""", id=session_id)


def consent_changes(session_id: str) -> list[dict]:
    """Every time someone in the session gave or withdrew consent to an analysis (``face``,
    ``voice``), in order; at one moment a consent comes before its withdrawal."""
    return _rows("""
        SELECT c.participant_id, c.at, c.given, c.analysis::text AS analysis
        FROM consent_changes c JOIN participants p ON p.id = c.participant_id
        WHERE p.session_id = :id ORDER BY c.participant_id, c.at, c.given DESC""", id=session_id)


def speech(session_id: str) -> list[dict]:
    """Everyone in the session, as ``participants`` orders them, with their voice consent and,
    when analysed (``analysed``), their measures from the ``speech_summary`` view: zeros for
    someone analysed who never spoke, NULL for someone not analysed (never "silent")."""
    return _rows(f"""
        WITH people AS ({_PEOPLE} WHERE p.session_id = :id),
        spoke AS (SELECT EXISTS (SELECT FROM speech_segments WHERE session_id = :id) AS anyone)
        SELECT p.id AS participant_id, p.label, p.role, p.voice_consent, a.analysed,
               CASE WHEN a.analysed THEN coalesce(s.talk_s, 0) END AS talk_s,
               CASE WHEN a.analysed AND spoke.anyone THEN coalesce(s.talk_share, 0) END
                   AS talk_share,
               CASE WHEN a.analysed THEN coalesce(s.turns, 0) END AS turns,
               CASE WHEN a.analysed THEN coalesce(s.longest_monologue_s, 0) END
                   AS longest_monologue_s,
               CASE WHEN a.analysed THEN coalesce(s.interruptions_made, 0) END
                   AS interruptions_made,
               CASE WHEN a.analysed THEN coalesce(s.times_interrupted, 0) END
                   AS times_interrupted,
               s.spoke_before_interrupted_s, s.median_response_pause_s
        FROM people p CROSS JOIN spoke
        LEFT JOIN speech_summary s ON s.session_id = :id AND s.participant_id = p.id
        CROSS JOIN LATERAL (SELECT {_VOICED} OR s.participant_id IS NOT NULL AS analysed) a
        ORDER BY p.role <> 'consultant', p.joined_at, p.id""", id=session_id)


def speech_segments(session_id: str) -> list[dict]:
    """When each analysed person in the session spoke, in order."""
    return _rows("""
        SELECT participant_id, started_at, ended_at FROM speech_segments
        WHERE session_id = :id ORDER BY started_at, participant_id""", id=session_id)


def speech_interruptions(session_id: str) -> list[dict]:
    """Who interrupted whom in the session, and when (the ``speech_interruptions`` view)."""
    return _rows("""
        SELECT by_participant, of_participant, at FROM speech_interruptions
        WHERE session_id = :id ORDER BY at""", id=session_id)


def session_silence(session_id: str) -> dict | None:
    """The session's silence and longest silence (the ``session_speech`` view); None when
    nobody analysed spoke."""
    rows = _rows("SELECT silence_s, longest_silence_s FROM session_speech WHERE session_id = :id",
                 id=session_id)
    return rows[0] if rows else None


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


def reading_shares(session_id: str) -> list[dict]:
    """Per client or student and reading (``model``: the live reading, ``personal``: compared
    with their usual face): the share of their faces at which each expression led it, or it was
    unclear (contracts.smoothing), as the consultant saw it."""
    return _rows("""
        WITH readings AS (
            SELECT 'model' AS reading, * FROM emotion_readings WHERE session_id = :id
            UNION ALL
            SELECT 'personal', * FROM personal_readings WHERE session_id = :id
        )
        SELECT r.participant_id, r.reading,
               CASE WHEN r.unclear THEN 'unclear' ELSE r.leading_expression::text END AS emotion,
               count(*)::float8 / sum(count(*)) OVER (PARTITION BY r.participant_id, r.reading)
                   AS share
        FROM readings r JOIN participants p ON p.id = r.participant_id
        WHERE p.role <> 'consultant'
        GROUP BY 1, 2, 3
        ORDER BY r.participant_id, r.reading, share DESC""", id=session_id)


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
        FROM session_summaries
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
        FROM session_summaries
        WHERE consultant IS NOT NULL AND faces > 0 AND {_MINE}
          AND (CAST(:start AS date) IS NULL OR started_at >= CAST(:start AS date))
          AND (CAST(:end AS date) IS NULL OR started_at < CAST(:end AS date) + 1)
        GROUP BY consultant, week ORDER BY consultant, week""", start=start, end=end)


def weekly_speech(start: str | None, end: str | None) -> list[dict]:
    """Per consultant and week, over sessions where a consultant and a client or student were
    analysed for voice and someone spoke: how many, the consultants' mean share of the talk,
    and how many times per session a consultant interrupted a client or student."""
    return _rows(f"""
        SELECT consultant, date_trunc('week', started_at) AS week, count(*) AS sessions,
               avg(consultant_talk_share) AS talk_share,
               avg(clients_interrupted)::float8 AS clients_interrupted
        FROM session_summaries
        WHERE voiced AND consultant IS NOT NULL AND {_MINE}
          AND (CAST(:start AS date) IS NULL OR started_at >= CAST(:start AS date))
          AND (CAST(:end AS date) IS NULL OR started_at < CAST(:end AS date) + 1)
        GROUP BY consultant, week ORDER BY consultant, week""", start=start, end=end)


def live(window_s: int, alert: AlertRule) -> list[dict]:
    """Per client or student of each running session: the live reading at their latest face
    (contracts.smoothing), how long their faces have read negative when ``alert`` holds
    (contracts.alert), and face presence, facing the screen and others in view over the last
    30 s."""
    # The reading at the window's first face looks back HISTORY_S.
    recent = ("SELECT e.* FROM emotion_events e JOIN running r ON r.id = e.session_id "
              f"WHERE e.captured_at > now() - make_interval(secs => :window + {HISTORY_S})")
    return _rows(f"""
        WITH running AS ({_RUNNING}
        ), people AS ({_PEOPLE} WHERE p.session_id IN (SELECT id FROM running)
        ), readings AS ({readings_sql(recent)}
        ), latest AS (
            SELECT DISTINCT ON (r.participant_id) r.*
            FROM readings r WHERE r.captured_at > now() - make_interval(secs => :window)
            ORDER BY r.participant_id, r.captured_at DESC
        ), alerts AS ({alert.sql(
            "SELECT e.* FROM emotion_events e JOIN running r ON r.id = e.session_id")}
        ), presence AS (
            SELECT s.participant_id, avg(s.face_found::int)::float8 AS face_presence,
                   avg(coalesce(s.facing_screen, false)::int)::float8 AS facing_screen,
                   max(s.others_in_view) AS others_in_view
            FROM samples s JOIN running r ON r.id = s.session_id
            WHERE s.captured_at > now() - interval '30 seconds' GROUP BY s.participant_id
        )
        SELECT r.id AS session_id, r.room, p.id AS participant_id, p.label, p.consent,
               latest.captured_at, {", ".join(f"latest.{x}" for x in EMOTIONS)},
               latest.shown, latest.unclear, latest.leading_expression::text AS leading,
               alerts.negative_for_s, presence.face_presence,
               presence.facing_screen, presence.others_in_view
        FROM running r JOIN people p ON p.session_id = r.id
        LEFT JOIN latest ON latest.participant_id = p.id
        LEFT JOIN alerts ON alerts.participant_id = p.id
        LEFT JOIN presence ON presence.participant_id = p.id
        WHERE p.role <> 'consultant' AND p.left_at IS NULL
        ORDER BY r.room, r.id, p.joined_at, p.id""", window=window_s)


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


def live_voices() -> list[dict]:
    """Everyone present in each running session, consultants first: their label, role, voice
    consent, and whether their voice is analysed (consent stands now, or they spoke), as the
    room's consultant is told (ingest/talk.py)."""
    return _rows(f"""
        WITH running AS ({_RUNNING}),
        people AS ({_PEOPLE} WHERE p.session_id IN (SELECT id FROM running))
        SELECT p.session_id, p.id AS participant_id, p.label, p.role, p.voice_consent,
               p.voice_consent = 'given' OR EXISTS (
                   SELECT FROM speech_segments g WHERE g.participant_id = p.id) AS analysed
        FROM people p WHERE p.left_at IS NULL
        ORDER BY p.session_id, p.role <> 'consultant', p.joined_at, p.id""")


def live_segments(recent_s: float) -> list[dict]:
    """Speech segments of the running sessions, in seconds since the epoch: those going on or
    ended in the last ``recent_s``, and, for contracts.speech.hints, each person's latest and
    each session's first (how long someone has been quiet)."""
    return _rows(f"""
        WITH running AS ({_RUNNING}),
        own AS (SELECT g.* FROM speech_segments g JOIN running r ON r.id = g.session_id)
        SELECT session_id, participant_id, extract(epoch FROM started_at)::float8 AS start_s,
               extract(epoch FROM ended_at)::float8 AS end_s
        FROM own WHERE id IN (
            SELECT id FROM own WHERE ended_at > now() - make_interval(secs => :recent)
            UNION (SELECT DISTINCT ON (participant_id) id FROM own
                   ORDER BY participant_id, ended_at DESC)
            UNION (SELECT DISTINCT ON (session_id) id FROM own ORDER BY session_id, started_at))
        ORDER BY session_id, started_at""", recent=recent_s)
