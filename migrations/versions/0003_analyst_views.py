"""Views for analysts and a read-only role to query them with.

- ``session_summary``: one row per session: who, when, how many were analysed, face presence,
  the quality score (mean positivity of clients' and students' faces, as contracts.quality
  defines it) and the share of faces showing each expression.
- ``participant_minute``: one row per participant per minute: frames, face presence, mean
  probability of each expression and the quality score.
- role ``econsult_analyst``: may log in and read every table and view, and change nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
# contracts.quality.positivity; tests/migrations check that both give the same numbers.
POSITIVITY = "100.0 * (e.happy + e.surprise + e.neutral)"
ANALYST = "econsult_analyst"

SESSION_SUMMARY = f"""
CREATE VIEW session_summary AS
WITH faces AS (
    SELECT e.session_id, count(*) AS faces, avg({POSITIVITY}) AS quality,
           {", ".join(f"avg((e.dominant = '{x}')::int)::float8 AS {x}_share" for x in EMOTIONS)}
    FROM emotion_events e JOIN participants p ON p.id = e.participant_id
    WHERE p.role <> 'consultant' AND e.face_index = 0
    GROUP BY e.session_id
), frames AS (
    SELECT session_id, count(*) AS frames, avg((face_count > 0)::int)::float8 AS face_presence
    FROM samples GROUP BY session_id
), people AS (
    SELECT session_id, count(*) FILTER (WHERE role <> 'consultant') AS participants,
           count(*) FILTER (WHERE consent_at IS NOT NULL) AS analysed_participants
    FROM participants GROUP BY session_id
)
SELECT s.id AS session_id, s.room, s.consultant, s.source, s.started_at, s.ended_at,
       s.ended_at - s.started_at AS duration,
       coalesce(people.participants, 0) AS participants,
       coalesce(people.analysed_participants, 0) AS analysed_participants,
       coalesce(frames.frames, 0) AS frames, frames.face_presence,
       coalesce(faces.faces, 0) AS faces, faces.quality,
       {", ".join(f"faces.{x}_share" for x in EMOTIONS)}
FROM sessions s
LEFT JOIN faces ON faces.session_id = s.id
LEFT JOIN frames ON frames.session_id = s.id
LEFT JOIN people ON people.session_id = s.id
"""

PARTICIPANT_MINUTE = f"""
CREATE VIEW participant_minute AS
WITH frames AS (
    SELECT participant_id, date_trunc('minute', captured_at) AS minute, count(*) AS frames,
           avg((face_count > 0)::int)::float8 AS face_presence
    FROM samples GROUP BY participant_id, date_trunc('minute', captured_at)
), faces AS (
    SELECT e.participant_id, date_trunc('minute', e.captured_at) AS minute,
           avg({POSITIVITY}) AS quality,
           {", ".join(f"avg(e.{x}) AS {x}" for x in EMOTIONS)}
    FROM emotion_events e WHERE e.face_index = 0
    GROUP BY e.participant_id, date_trunc('minute', e.captured_at)
)
SELECT p.session_id, p.id AS participant_id, p.display_name, p.role, frames.minute,
       frames.frames, frames.face_presence, faces.quality,
       {", ".join(f"faces.{x}" for x in EMOTIONS)}
FROM frames JOIN participants p ON p.id = frames.participant_id
LEFT JOIN faces ON faces.participant_id = frames.participant_id
               AND faces.minute = frames.minute
"""


def upgrade() -> None:
    op.execute(SESSION_SUMMARY)
    op.execute(PARTICIPANT_MINUTE)
    # Roles belong to the whole PostgreSQL cluster: create it once, grant in each database.
    op.execute(f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ANALYST}') THEN
            CREATE ROLE {ANALYST} LOGIN;
        END IF; END $$""")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ANALYST}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ANALYST}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {ANALYST}")


def downgrade() -> None:
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM {ANALYST}")
    op.execute(f"REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM {ANALYST}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ANALYST}")
    op.execute("DROP VIEW participant_minute")
    op.execute("DROP VIEW session_summary")
