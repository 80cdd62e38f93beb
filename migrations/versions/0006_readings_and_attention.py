"""Live readings and attention.

- ``samples`` keep the pose of the participant's head (``head_yaw``, ``head_pitch``, degrees)
  and whether it faced the screen (``facing_screen``); all three are NULL where no face was
  found, and for frames stored before this revision.
- A new view, ``emotion_readings``: every stored face with the smoothed probabilities and the
  leading expression people were shown live (``leading_expression``; contracts.smoothing).
- ``session_summary``, ``participant_summary`` and ``participant_minute`` gain
  ``facing_screen``: the share of frames in which the participant's face was found facing the
  screen, beside ``face_presence``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
# Unchanged since 0005: the quality score, the consent rule and people's labels.
EARLIER = import_module("migrations.versions.0005_records_whole")
POSITIVITY, CONSENT_STATE, LABEL = EARLIER.POSITIVITY, EARLIER.CONSENT_STATE, EARLIER.LABEL
FACING = "avg(coalesce(facing_screen, false)::int)::float8 AS facing_screen"


def _smoothed(column: str) -> str:
    """contracts.smoothing.smoothed_sql(column), as of this revision."""
    return (f"avg(e.{column}) OVER (PARTITION BY e.session_id, e.participant_id "
            f"ORDER BY e.captured_at RANGE BETWEEN interval '3.0 seconds' PRECEDING "
            f"AND CURRENT ROW)")


# contracts.smoothing.leading_sql("r"), as of this revision.
LEADING = "CASE " + " ".join(
    f"WHEN r.{x} = greatest({', '.join(f'r.{y}' for y in EMOTIONS)}) THEN '{x}'"
    for x in EMOTIONS) + " END"

EMOTION_READINGS = f"""
CREATE VIEW emotion_readings AS
SELECT r.*, ({LEADING})::emotion AS leading_expression
FROM (SELECT e.session_id, e.participant_id, e.capture_id, e.seq, e.captured_at,
             {", ".join(f"{_smoothed(x)} AS {x}" for x in EMOTIONS)}
      FROM emotion_events e) r
"""

SESSION_SUMMARY = EARLIER.SESSION_SUMMARY.replace(
    "avg(face_found::int)::float8 AS face_presence,",
    f"avg(face_found::int)::float8 AS face_presence, {FACING},").replace(
    "frames.face_presence, frames.others_in_view",
    "frames.face_presence, frames.facing_screen, frames.others_in_view")

PARTICIPANT_SUMMARY = EARLIER.PARTICIPANT_SUMMARY.replace(
    "sum(with_face)::float8 / nullif(sum(frames), 0) AS face_presence,",
    "sum(with_face)::float8 / nullif(sum(frames), 0) AS face_presence,\n"
    "           sum(facing)::float8 / nullif(sum(frames), 0) AS facing_screen,").replace(
    "count(*) FILTER (WHERE face_found) AS with_face,",
    "count(*) FILTER (WHERE face_found) AS with_face,\n"
    "                 count(*) FILTER (WHERE facing_screen) AS facing,").replace(
    "frames.face_presence, frames.others_in_view",
    "frames.face_presence, frames.facing_screen, frames.others_in_view")

PARTICIPANT_MINUTE = EARLIER.PARTICIPANT_MINUTE.replace(
    "avg(face_found::int)::float8 AS face_presence,",
    f"avg(face_found::int)::float8 AS face_presence, {FACING},").replace(
    "frames.face_presence, frames.others_in_view",
    "frames.face_presence, frames.facing_screen, frames.others_in_view")

VIEWS = ("emotion_readings", *EARLIER.VIEWS)


def upgrade() -> None:
    for view in EARLIER.VIEWS:
        op.execute(f"DROP VIEW {view}")
    op.add_column("samples", sa.Column("head_yaw", sa.REAL()))
    op.add_column("samples", sa.Column("head_pitch", sa.REAL()))
    op.add_column("samples", sa.Column("facing_screen", sa.Boolean()))
    for view in (EMOTION_READINGS, SESSION_SUMMARY, PARTICIPANT_SUMMARY, PARTICIPANT_MINUTE):
        op.execute(view)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")
    for column in ("head_yaw", "head_pitch", "facing_screen"):
        op.drop_column("samples", column)
    for view in (EARLIER.SESSION_SUMMARY, EARLIER.PARTICIPANT_SUMMARY,
                 EARLIER.PARTICIPANT_MINUTE):
        op.execute(view)
