"""Speech activity: consent to voice analysis apart from face analysis, the speech segments
it yields, and the analysts' views of the conversation's measures (contracts/speech.py).

- ``participants`` gain ``voice_consent_at`` and ``voice_consent_withdrawn_at`` (the latest
  consent to voice analysis and the latest withdrawal); ``consent_changes`` gain ``analysis``
  (``face`` or ``voice``; every change before this revision was to face analysis).
- ``speech_segments``: when each person who agreed to voice analysis spoke (never a sound).
- Views ``speech_turns``, ``speech_interruptions``, ``speech_summary`` (per participant) and
  ``session_speech`` (silence, per session).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
ANALYSIS = postgresql.ENUM("face", "voice", name="analysis", create_type=False)
# contracts.speech's measures, as of this revision (VIEWS_SQL; tests compare them).
_SECONDS = "extract(epoch FROM {})::float8"
_FLOOR = "{0}ended_at - {0}started_at >= interval '1.0 seconds'"

SPEECH_TURNS = f"""
CREATE VIEW speech_turns AS
WITH floor AS (
    SELECT session_id, participant_id, started_at, ended_at,
           lag(participant_id) OVER (PARTITION BY session_id
                                     ORDER BY started_at, participant_id) AS before
    FROM speech_segments WHERE {_FLOOR.format("")}
), numbered AS (
    SELECT *, count(*) FILTER (WHERE before IS DISTINCT FROM participant_id)
                  OVER (PARTITION BY session_id ORDER BY started_at, participant_id
                        ROWS UNBOUNDED PRECEDING) AS turn
    FROM floor
), turns AS (
    SELECT session_id, turn, participant_id, min(started_at) AS started_at,
           max(ended_at) AS ended_at
    FROM numbered GROUP BY session_id, turn, participant_id
), paced AS (
    SELECT *, {_SECONDS.format(
        "started_at - lag(ended_at) OVER (PARTITION BY session_id ORDER BY turn)")} AS gap
    FROM turns
)
SELECT session_id, turn, participant_id, started_at, ended_at,
       CASE WHEN gap < 0 THEN 0 ELSE gap END AS pause_before_s
FROM paced
"""

SPEECH_INTERRUPTIONS = f"""
CREATE VIEW speech_interruptions AS
SELECT DISTINCT s.session_id, s.participant_id AS by_participant,
       o.participant_id AS of_participant, s.started_at AS at
FROM speech_segments s
JOIN speech_segments o ON o.session_id = s.session_id AND o.participant_id <> s.participant_id
     AND s.started_at >= o.started_at + interval '1.0 seconds'
     AND s.started_at < o.ended_at
WHERE {_FLOOR.format("s.")}
"""

_BEFORE_CUT = _SECONDS.format("least(g.ended_at, f.first_interrupted_at) - g.started_at")
SPEECH_SUMMARY = f"""
CREATE VIEW speech_summary AS
WITH talk AS (
    SELECT session_id, participant_id,
           sum({_SECONDS.format("ended_at - started_at")}) AS talk_s
    FROM speech_segments GROUP BY session_id, participant_id
), turned AS (
    SELECT session_id, participant_id, count(*) AS turns,
           max({_SECONDS.format("ended_at - started_at")}) AS longest_monologue_s,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY pause_before_s)
               AS median_response_pause_s
    FROM speech_turns GROUP BY session_id, participant_id
), made AS (
    SELECT session_id, by_participant AS participant_id, count(*) AS interruptions_made
    FROM speech_interruptions GROUP BY session_id, by_participant
), suffered AS (
    SELECT session_id, of_participant AS participant_id, count(*) AS times_interrupted,
           min(at) AS first_interrupted_at
    FROM speech_interruptions GROUP BY session_id, of_participant
)
SELECT t.session_id, t.participant_id, t.talk_s,
       100.0 * t.talk_s / nullif(sum(t.talk_s) OVER (PARTITION BY t.session_id), 0)
           AS talk_share,
       coalesce(u.turns, 0) AS turns, coalesce(u.longest_monologue_s, 0) AS longest_monologue_s,
       coalesce(m.interruptions_made, 0) AS interruptions_made,
       coalesce(f.times_interrupted, 0) AS times_interrupted,
       CASE WHEN f.first_interrupted_at IS NOT NULL THEN coalesce(
           (SELECT sum({_BEFORE_CUT})
            FROM speech_segments g
            WHERE g.session_id = t.session_id AND g.participant_id = t.participant_id
              AND g.started_at < f.first_interrupted_at), 0) END AS spoke_before_interrupted_s,
       u.median_response_pause_s
FROM talk t
LEFT JOIN turned u USING (session_id, participant_id)
LEFT JOIN made m USING (session_id, participant_id)
LEFT JOIN suffered f USING (session_id, participant_id)
"""

SESSION_SPEECH = f"""
CREATE VIEW session_speech AS
WITH reached AS (
    SELECT session_id, started_at,
           max(ended_at) OVER (PARTITION BY session_id ORDER BY started_at, ended_at
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
    FROM speech_segments
), gaps AS (
    SELECT session_id, greatest(0, {_SECONDS.format("started_at - reached")}) AS gap
    FROM reached
)
SELECT session_id, coalesce(sum(gap), 0) AS silence_s,
       coalesce(max(gap), 0) AS longest_silence_s
FROM gaps GROUP BY session_id
"""

VIEWS = (SPEECH_TURNS, SPEECH_INTERRUPTIONS, SPEECH_SUMMARY, SESSION_SPEECH)


def upgrade() -> None:
    op.add_column("participants", sa.Column("voice_consent_at", Timestamp))
    op.add_column("participants", sa.Column("voice_consent_withdrawn_at", Timestamp))
    ANALYSIS.create(op.get_bind())
    op.add_column("consent_changes", sa.Column("analysis", ANALYSIS, nullable=False,
                                               server_default="face"))
    op.drop_constraint("pk_consent_changes", "consent_changes")
    op.create_primary_key("pk_consent_changes", "consent_changes",
                          ["participant_id", "at", "given", "analysis"])
    op.create_table(
        "speech_segments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("capture_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp, nullable=False),
        sa.CheckConstraint("ended_at >= started_at", name="ck_speech_segments_ends_after_start"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE",
                                name="fk_speech_segments_session_id_sessions"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE",
                                name="fk_speech_segments_participant_id_participants"),
        sa.PrimaryKeyConstraint("id", name="pk_speech_segments"),
        sa.UniqueConstraint("participant_id", "capture_id", "seq",
                            name="uq_speech_segments_seq"),
    )
    op.create_index("ix_speech_segments_session_started", "speech_segments",
                    ["session_id", "started_at"])
    for view in VIEWS:
        op.execute(view)


def downgrade() -> None:
    for view in ("session_speech", "speech_summary", "speech_interruptions", "speech_turns"):
        op.execute(f"DROP VIEW {view}")
    op.drop_table("speech_segments")
    op.execute("DELETE FROM consent_changes WHERE analysis = 'voice'")
    op.drop_constraint("pk_consent_changes", "consent_changes")
    op.create_primary_key("pk_consent_changes", "consent_changes",
                          ["participant_id", "at", "given"])
    op.drop_column("consent_changes", "analysis")
    ANALYSIS.drop(op.get_bind())
    op.drop_column("participants", "voice_consent_withdrawn_at")
    op.drop_column("participants", "voice_consent_at")
