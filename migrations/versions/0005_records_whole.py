"""Every person's record whole, and only theirs.

- A frame is identified by its capture and its number in it (``capture_id``, ``seq``): a reload
  or a re-consent starts a new capture, whose frames are new frames, not duplicates.
- Only the participant's own face is stored: ``samples.face_found`` and ``others_in_view``
  replace ``face_count``; ``emotion_events`` loses ``face_index``, and the rows of faces other
  than the first (someone else's expression) are deleted.
- ``consent_changes`` keeps every change of consent; ``sessions`` say why they ended and when
  anything of them was last stored; ``erasures`` remembers the ids of erased people and sessions.
- The analysts' views follow, with consent read by contracts.consent's rule, and a new view
  ``participant_summary``, one row per person, labelled so that two people of the same name
  stay two people, with the frames sampled but never stored (missing numbers of a capture).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
END_REASONS = ("ended", "interrupted", "silent", "incomplete")
# contracts.quality.positivity and contracts.consent.consent_state_sql("p"), as of this
# revision; tests/migrations check that the views agree with them.
POSITIVITY = "100.0 * (e.happy + e.surprise + e.neutral)"
CONSENT_STATE = ("CASE WHEN p.consent_at IS NULL THEN 'declined' "
                 "WHEN p.consent_withdrawn_at >= p.consent_at THEN 'withdrawn' ELSE 'given' END")

# contracts.people.label_sql("p"), as of this revision.
LABEL = ("p.display_name || CASE "
         "WHEN count(*) OVER (PARTITION BY p.session_id, p.display_name) = 1 THEN '' "
         "ELSE ' (' || row_number() OVER (PARTITION BY p.session_id, p.display_name "
         "ORDER BY p.joined_at, p.id) || ')' END")

SESSION_SUMMARY = f"""
CREATE VIEW session_summary AS
WITH faces AS (
    SELECT e.session_id, count(*) AS faces, avg({POSITIVITY}) AS quality,
           {", ".join(f"avg((e.dominant = '{x}')::int)::float8 AS {x}_share" for x in EMOTIONS)}
    FROM emotion_events e JOIN participants p ON p.id = e.participant_id
    WHERE p.role <> 'consultant'
    GROUP BY e.session_id
), frames AS (
    SELECT session_id, count(*) AS frames, avg(face_found::int)::float8 AS face_presence,
           avg((others_in_view > 0)::int)::float8 AS others_in_view
    FROM samples GROUP BY session_id
), people AS (
    SELECT p.session_id, count(*) AS participants,
           count(*) FILTER (WHERE {CONSENT_STATE} <> 'declined') AS analysed_participants,
           count(*) FILTER (WHERE {CONSENT_STATE} = 'withdrawn') AS withdrawn_participants,
           count(*) FILTER (WHERE {CONSENT_STATE} = 'declined') AS declined_participants
    FROM participants p WHERE p.role <> 'consultant' GROUP BY p.session_id
)
SELECT s.id AS session_id, s.room, s.consultant, s.source, s.started_at, s.ended_at,
       s.end_reason, s.ended_at - s.started_at AS duration,
       coalesce(people.participants, 0) AS participants,
       coalesce(people.analysed_participants, 0) AS analysed_participants,
       coalesce(people.withdrawn_participants, 0) AS withdrawn_participants,
       coalesce(people.declined_participants, 0) AS declined_participants,
       coalesce(frames.frames, 0) AS frames, frames.face_presence, frames.others_in_view,
       coalesce(faces.faces, 0) AS faces, faces.quality,
       {", ".join(f"faces.{x}_share" for x in EMOTIONS)}
FROM sessions s
LEFT JOIN faces ON faces.session_id = s.id
LEFT JOIN frames ON frames.session_id = s.id
LEFT JOIN people ON people.session_id = s.id
"""

PARTICIPANT_SUMMARY = f"""
CREATE VIEW participant_summary AS
SELECT p.session_id, p.id AS participant_id, p.display_name, {LABEL} AS label, p.role,
       p.joined_at, p.left_at, {CONSENT_STATE} AS consent, p.consent_at, p.consent_withdrawn_at,
       frames.frames, frames.frames_missing, frames.face_presence, frames.others_in_view,
       faces.faces, faces.quality
FROM participants p
CROSS JOIN LATERAL (
    SELECT coalesce(sum(frames), 0) AS frames, coalesce(sum(missing), 0) AS frames_missing,
           sum(with_face)::float8 / nullif(sum(frames), 0) AS face_presence,
           sum(with_others)::float8 / nullif(sum(frames), 0) AS others_in_view
    FROM (SELECT count(*) AS frames, max(seq) + 1 - count(*) AS missing,
                 count(*) FILTER (WHERE face_found) AS with_face,
                 count(*) FILTER (WHERE others_in_view > 0) AS with_others
          FROM samples WHERE participant_id = p.id GROUP BY capture_id) captures) frames
CROSS JOIN LATERAL (
    SELECT count(*) AS faces, avg({POSITIVITY}) AS quality
    FROM emotion_events e WHERE e.participant_id = p.id) faces
"""

PARTICIPANT_MINUTE = f"""
CREATE VIEW participant_minute AS
WITH frames AS (
    SELECT participant_id, date_trunc('minute', captured_at) AS minute, count(*) AS frames,
           avg(face_found::int)::float8 AS face_presence,
           avg((others_in_view > 0)::int)::float8 AS others_in_view
    FROM samples GROUP BY participant_id, date_trunc('minute', captured_at)
), faces AS (
    SELECT e.participant_id, date_trunc('minute', e.captured_at) AS minute,
           avg({POSITIVITY}) AS quality,
           {", ".join(f"avg(e.{x}) AS {x}" for x in EMOTIONS)}
    FROM emotion_events e
    GROUP BY e.participant_id, date_trunc('minute', e.captured_at)
)
SELECT p.session_id, p.id AS participant_id, p.display_name, p.role, frames.minute,
       frames.frames, frames.face_presence, frames.others_in_view, faces.quality,
       {", ".join(f"faces.{x}" for x in EMOTIONS)}
FROM frames JOIN participants p ON p.id = frames.participant_id
LEFT JOIN faces ON faces.participant_id = frames.participant_id
               AND faces.minute = frames.minute
"""

VIEWS = ("participant_minute", "participant_summary", "session_summary")


def upgrade() -> None:
    for view in ("participant_minute", "session_summary"):
        op.execute(f"DROP VIEW {view}")
    _sessions()
    _consent_changes()
    _frames_by_capture()
    op.create_table("erasures",
                    sa.Column("id", sa.Uuid(), nullable=False),
                    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False,
                              server_default=sa.text("now()")),
                    sa.PrimaryKeyConstraint("id", name="pk_erasures"))
    for view in (SESSION_SUMMARY, PARTICIPANT_SUMMARY, PARTICIPANT_MINUTE):
        op.execute(view)


def _sessions() -> None:
    reason = sa.Enum(*END_REASONS, name="session_end_reason")
    reason.create(op.get_bind())
    op.add_column("sessions", sa.Column("end_reason", reason))
    op.add_column("sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True),
                                        server_default=sa.text("now()"), nullable=False))
    op.execute("UPDATE sessions SET end_reason = 'ended' WHERE ended_at IS NOT NULL")
    op.execute("""UPDATE sessions s SET last_seen_at = greatest(s.started_at, s.ended_at,
                      (SELECT max(stored_at) FROM samples WHERE session_id = s.id))""")


def _consent_changes() -> None:
    op.create_table(
        "consent_changes",
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE",
                                name="fk_consent_changes_participant_id_participants"),
        sa.PrimaryKeyConstraint("participant_id", "at", "given", name="pk_consent_changes"),
    )
    op.execute("""INSERT INTO consent_changes (participant_id, at, given)
                  SELECT id, consent_at, true FROM participants WHERE consent_at IS NOT NULL
                  UNION ALL
                  SELECT id, consent_withdrawn_at, false FROM participants
                  WHERE consent_withdrawn_at IS NOT NULL""")


def _frames_by_capture() -> None:
    # Before this revision a participant had one sequence of frame numbers: it becomes their
    # capture, identified by their own id.
    for table in ("samples", "emotion_events"):
        op.add_column(table, sa.Column("capture_id", sa.Uuid()))
        op.execute(f"UPDATE {table} SET capture_id = participant_id")
        op.alter_column(table, "capture_id", nullable=False)
    op.add_column("samples", sa.Column("face_found", sa.Boolean()))
    op.add_column("samples", sa.Column("others_in_view", sa.SmallInteger()))
    op.execute("UPDATE samples SET face_found = face_count > 0, "
               "others_in_view = greatest(face_count - 1, 0)")
    for column in ("face_found", "others_in_view"):
        op.alter_column("samples", column, nullable=False)
    op.drop_constraint("uq_samples_participant_seq", "samples")
    op.drop_column("samples", "face_count")
    op.create_unique_constraint("uq_samples_frame", "samples",
                                ["participant_id", "capture_id", "seq"])
    op.create_check_constraint(op.f("ck_samples_others_in_view_not_negative"), "samples",
                               "others_in_view >= 0")
    # Faces after the first were other people's: their expressions are not to be kept.
    op.execute("DELETE FROM emotion_events WHERE face_index > 0")
    op.drop_constraint("uq_emotion_events_participant_seq_face", "emotion_events")
    op.drop_column("emotion_events", "face_index")
    op.create_unique_constraint("uq_emotion_events_frame", "emotion_events",
                                ["participant_id", "capture_id", "seq"])


def downgrade() -> None:
    from importlib import import_module

    earlier = import_module("migrations.versions.0003_analyst_views")
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")
    op.drop_table("erasures")
    op.drop_constraint("uq_emotion_events_frame", "emotion_events")
    op.add_column("emotion_events", sa.Column("face_index", sa.SmallInteger(),
                                              server_default="0", nullable=False))
    op.alter_column("emotion_events", "face_index", server_default=None)
    op.create_check_constraint(op.f("ck_emotion_events_face_index_not_negative"),
                               "emotion_events",
                               "face_index >= 0")
    op.add_column("samples", sa.Column("face_count", sa.SmallInteger()))
    op.execute("UPDATE samples SET face_count = face_found::int + others_in_view")
    op.alter_column("samples", "face_count", nullable=False)
    op.drop_constraint("uq_samples_frame", "samples")
    op.drop_constraint("ck_samples_others_in_view_not_negative", "samples")
    for column in ("face_found", "others_in_view", "capture_id"):
        op.drop_column("samples", column)
    op.drop_column("emotion_events", "capture_id")
    # Frame numbers restarted with every capture: only the first frame of a number survives.
    for table in ("samples", "emotion_events"):
        op.execute(f"""DELETE FROM {table} t USING {table} u
                       WHERE (t.participant_id, t.seq) = (u.participant_id, u.seq)
                         AND t.id > u.id""")
    op.create_unique_constraint("uq_samples_participant_seq", "samples", ["participant_id", "seq"])
    op.create_unique_constraint("uq_emotion_events_participant_seq_face", "emotion_events",
                                ["participant_id", "seq", "face_index"])
    op.drop_table("consent_changes")
    op.drop_column("sessions", "last_seen_at")
    op.drop_column("sessions", "end_reason")
    sa.Enum(name="session_end_reason").drop(op.get_bind())
    op.execute(earlier.SESSION_SUMMARY)
    op.execute(earlier.PARTICIPANT_MINUTE)
