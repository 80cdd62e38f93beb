"""Session and participant summaries kept current.

- ``session_summaries``: one row per session, the ``session_summary`` view's row with the
  session's speech measures (``voiced``, ``consultant_talk_share``, ``clients_interrupted``) and
  when it was written (``summarised_at``). The workers write it (worker/summaries.py), starting
  with every session already stored; the dashboard's lists and trends read it.
- ``participant_summaries``: each participant's row of the ``participant_summary`` view,
  written with their session's; reports of sessions whose frames have expired read it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "session_summaries",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("room", sa.String(200), nullable=False),
        sa.Column("consultant", sa.String(200)),
        sa.Column("source", postgresql.ENUM(name="session_source", create_type=False),
                  nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp),
        sa.Column("end_reason", postgresql.ENUM(name="session_end_reason", create_type=False)),
        sa.Column("duration", sa.Interval()),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (
            "participants", "analysed_participants", "withdrawn_participants",
            "declined_participants", "frames")),
        *(sa.Column(name, sa.Double()) for name in (
            "face_presence", "facing_screen", "others_in_view")),
        sa.Column("faces", sa.BigInteger(), nullable=False),
        sa.Column("quality", sa.Double()),
        *(sa.Column(f"{name}_share", sa.Double()) for name in EMOTIONS),
        sa.Column("voiced", sa.Boolean(), nullable=False),
        sa.Column("consultant_talk_share", sa.Double()),
        sa.Column("clients_interrupted", sa.BigInteger()),
        sa.Column("summarised_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE",
                                name="fk_session_summaries_session_id_sessions"),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_summaries"))
    op.create_index("ix_session_summaries_started", "session_summaries", ["started_at"])
    op.create_index("ix_session_summaries_consultant_started", "session_summaries",
                    ["consultant", "started_at"])
    op.create_table(
        "participant_summaries",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("label", sa.String(250), nullable=False),
        sa.Column("role", postgresql.ENUM(name="participant_role", create_type=False),
                  nullable=False),
        sa.Column("joined_at", Timestamp, nullable=False),
        sa.Column("left_at", Timestamp),
        sa.Column("consent", sa.String(20), nullable=False),
        sa.Column("consent_at", Timestamp),
        sa.Column("consent_withdrawn_at", Timestamp),
        sa.Column("frames", sa.BigInteger(), nullable=False),
        sa.Column("frames_missing", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Double()) for name in (
            "face_presence", "facing_screen", "others_in_view")),
        sa.Column("faces", sa.BigInteger(), nullable=False),
        sa.Column("quality", sa.Double()),
        sa.Column("summarised_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE",
                                name="fk_participant_summaries_session_id_sessions"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE",
                                name="fk_participant_summaries_participant_id_participants"),
        sa.PrimaryKeyConstraint("participant_id", name="pk_participant_summaries"))
    op.create_index("ix_participant_summaries_session", "participant_summaries",
                    ["session_id"])


def downgrade() -> None:
    op.drop_table("participant_summaries")
    op.drop_table("session_summaries")
