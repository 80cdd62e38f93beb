"""Sessions, participants, analysed samples and emotion events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
ENUMS = ("session_source", "participant_role", "emotion")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room", sa.String(200), nullable=False),
        sa.Column("consultant", sa.String(200)),
        sa.Column("source", sa.Enum("room", "recording", name="session_source"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_consultant_started", "sessions", ["consultant", "started_at"])
    op.create_table(
        "participants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.Enum("consultant", "client", "student", name="participant_role"),
                  nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True)),
        sa.Column("consent_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE",
                                name="fk_participants_session_id_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_participants"),
    )
    op.create_index("ix_participants_session", "participants", ["session_id"])
    _create_samples()
    _create_emotion_events()


def _create_samples() -> None:
    op.create_table(
        "samples",
        *_references("samples"),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("clock_timestamp()")),
        sa.Column("face_count", sa.SmallInteger(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.UniqueConstraint("participant_id", "seq", name="uq_samples_participant_seq"),
    )
    op.create_index("ix_samples_session_captured", "samples", ["session_id", "captured_at"])


def _create_emotion_events() -> None:
    op.create_table(
        "emotion_events",
        *_references("emotion_events"),
        sa.Column("face_index", sa.SmallInteger(), nullable=False),
        *(sa.Column(f"box_{side}", sa.Integer(), nullable=False) for side in "xywh"),
        *(sa.Column(emotion, sa.REAL(), nullable=False) for emotion in EMOTIONS),
        sa.Column("dominant", sa.Enum(*EMOTIONS, name="emotion"), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.CheckConstraint("face_index >= 0",
                           name="ck_emotion_events_face_index_not_negative"),
        sa.UniqueConstraint("participant_id", "seq", "face_index",
                            name="uq_emotion_events_participant_seq_face"),
    )
    op.create_index("ix_emotion_events_session_captured", "emotion_events",
                    ["session_id", "captured_at"])


def _references(table: str) -> list[sa.Column | sa.Constraint]:
    """Columns samples and emotion events share: id, session, participant, seq, capture time."""
    return [
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE",
                                name=f"fk_{table}_session_id_sessions"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE",
                                name=f"fk_{table}_participant_id_participants"),
    ]


def downgrade() -> None:
    for table in ("emotion_events", "samples", "participants", "sessions"):
        op.drop_table(table)
    for enum in ENUMS:
        sa.Enum(name=enum).drop(op.get_bind(), checkfirst=True)
