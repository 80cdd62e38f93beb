"""The PostgreSQL schema: what workers write, what the dashboard and analysts read.

No video frame is ever stored: ``samples`` records that a frame was analysed, whether the
participant's own face was found in it (face presence is attention, so frames without it are
kept as rows too) and how many other faces were in view, and ``emotion_events`` holds the
participant's own face, with the seven probabilities. Nobody else's expression is ever stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import (
    REAL,
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Interval,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contracts.consent import ANALYSES
from contracts.labels import EMOTIONS
from contracts.room_events import END_REASONS, ROLES, SOURCES

Timestamp = DateTime(timezone=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Session(Base):
    """One consultation or class, live in a room or analysed from a recording."""

    __tablename__ = "sessions"
    id: Mapped[UUID] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(200))
    consultant: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Enum(*SOURCES, name="session_source"))
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)
    end_reason: Mapped[str | None] = mapped_column(Enum(*END_REASONS, name="session_end_reason"))
    # When a worker last stored anything of the session: one silent too long is closed.
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    __table_args__ = (Index("ix_sessions_consultant_started", "consultant", "started_at"),)


class Participant(Base):
    __tablename__ = "participants"
    id: Mapped[UUID] = mapped_column(primary_key=True)
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(Enum(*ROLES, name="participant_role"))
    display_name: Mapped[str] = mapped_column(String(200))
    joined_at: Mapped[datetime] = mapped_column(Timestamp)
    left_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # The latest consent and the latest withdrawal, to face analysis and to voice analysis;
    # contracts.consent says what they mean.
    consent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(Timestamp)
    voice_consent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    voice_consent_withdrawn_at: Mapped[datetime | None] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_participants_session", "session_id"),)


class ConsentChange(Base):
    """Every time a participant gave or withdrew consent to one kind of analysis, for reports
    and audits."""

    __tablename__ = "consent_changes"
    participant_id: Mapped[UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    given: Mapped[bool] = mapped_column(primary_key=True)
    analysis: Mapped[str] = mapped_column(Enum(*ANALYSES, name="analysis"), primary_key=True,
                                          server_default="face")


class _OfAFrame:
    """Whose frame a row is about: session, participant, the capture and the frame's number in
    it (together the frame's identity, see contracts.stream), and its capture time."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    capture_id: Mapped[UUID]
    seq: Mapped[int] = mapped_column(Integer)
    # Rows are partitioned by week of capture (retention drops whole weeks): PostgreSQL wants
    # the partition key in every unique key.
    captured_at: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)


class Sample(_OfAFrame, Base):
    """One analysed frame of one participant: when it was captured, whether their own face was
    found (and if so, their head's pose and whether it faced the screen, worker/head_pose.py),
    and how many other people's faces were in view (counted, never analysed)."""

    __tablename__ = "samples"
    stored_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.clock_timestamp())
    face_found: Mapped[bool]
    head_yaw: Mapped[float | None] = mapped_column(REAL)
    head_pitch: Mapped[float | None] = mapped_column(REAL)
    facing_screen: Mapped[bool | None]
    others_in_view: Mapped[int] = mapped_column(SmallInteger)
    model_version: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("participant_id", "capture_id", "seq", "captured_at",
                         name="uq_samples_frame"),
        Index("ix_samples_session_captured", "session_id", "captured_at"),
        CheckConstraint("others_in_view >= 0", name="others_in_view_not_negative"),
        {"postgresql_partition_by": "RANGE (captured_at)"},
    )


class EmotionEvent(_OfAFrame, Base):
    """The participant's own face in one analysed frame, with the probability of each emotion."""

    __tablename__ = "emotion_events"
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    angry: Mapped[float] = mapped_column(REAL)
    disgust: Mapped[float] = mapped_column(REAL)
    fear: Mapped[float] = mapped_column(REAL)
    happy: Mapped[float] = mapped_column(REAL)
    neutral: Mapped[float] = mapped_column(REAL)
    sad: Mapped[float] = mapped_column(REAL)
    surprise: Mapped[float] = mapped_column(REAL)
    dominant: Mapped[str] = mapped_column(Enum(*EMOTIONS, name="emotion"))
    model_version: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("participant_id", "capture_id", "seq", "captured_at",
                         name="uq_emotion_events_frame"),
        Index("ix_emotion_events_session_captured", "session_id", "captured_at"),
        {"postgresql_partition_by": "RANGE (captured_at)"},
    )


class SpeechSegment(Base):
    """A participant spoke from ``started_at`` to ``ended_at`` (voice activity only: no sound and
    nothing of what was said is ever stored). Identified, like a frame, by the capture (one
    analysis of one participant's audio) and the segment's number in it; an utterance still
    going on is stored as far as it went and grows (contracts/speech.py reads these)."""

    __tablename__ = "speech_segments"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    capture_id: Mapped[UUID]
    seq: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)  # partitioned
    ended_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (
        UniqueConstraint("participant_id", "capture_id", "seq", "started_at",
                         name="uq_speech_segments_seq"),
        Index("ix_speech_segments_session_started", "session_id", "started_at"),
        CheckConstraint("ended_at >= started_at", name="ends_after_start"),
        {"postgresql_partition_by": "RANGE (started_at)"},
    )


class SessionSummaryRow(Base):
    """A session's row of the ``session_summary`` view, with its speech measures, kept current
    by the workers (worker/summaries.py) so that lists and trends over months read one row per
    session, not every frame."""

    __tablename__ = "session_summaries"
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                             primary_key=True)
    room: Mapped[str] = mapped_column(String(200))
    consultant: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Enum(*SOURCES, name="session_source",
                                             create_type=False))
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)
    end_reason: Mapped[str | None] = mapped_column(Enum(*END_REASONS, name="session_end_reason",
                                                        create_type=False))
    duration: Mapped[timedelta | None] = mapped_column(Interval)
    participants: Mapped[int] = mapped_column(BigInteger)
    analysed_participants: Mapped[int] = mapped_column(BigInteger)
    withdrawn_participants: Mapped[int] = mapped_column(BigInteger)
    declined_participants: Mapped[int] = mapped_column(BigInteger)
    frames: Mapped[int] = mapped_column(BigInteger)
    face_presence: Mapped[float | None] = mapped_column(Double)
    facing_screen: Mapped[float | None] = mapped_column(Double)
    others_in_view: Mapped[float | None] = mapped_column(Double)
    faces: Mapped[int] = mapped_column(BigInteger)
    quality: Mapped[float | None] = mapped_column(Double)
    angry_share: Mapped[float | None] = mapped_column(Double)
    disgust_share: Mapped[float | None] = mapped_column(Double)
    fear_share: Mapped[float | None] = mapped_column(Double)
    happy_share: Mapped[float | None] = mapped_column(Double)
    neutral_share: Mapped[float | None] = mapped_column(Double)
    sad_share: Mapped[float | None] = mapped_column(Double)
    surprise_share: Mapped[float | None] = mapped_column(Double)
    # A consultant and a client or student were analysed for voice and someone spoke: then the
    # consultant's share of the talk (0-100) and how often they interrupted a client or student.
    voiced: Mapped[bool]
    consultant_talk_share: Mapped[float | None] = mapped_column(Double)
    clients_interrupted: Mapped[int | None] = mapped_column(BigInteger)
    summarised_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_session_summaries_started", "started_at"),
                      Index("ix_session_summaries_consultant_started", "consultant",
                            "started_at"))


class ParticipantSummaryRow(Base):
    """A participant's row of the ``participant_summary`` view, kept current with their
    session's summary (worker/summaries.py), and kept as long as it once their frames are gone."""

    __tablename__ = "participant_summaries"
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(250))
    role: Mapped[str] = mapped_column(Enum(*ROLES, name="participant_role", create_type=False))
    joined_at: Mapped[datetime] = mapped_column(Timestamp)
    left_at: Mapped[datetime | None] = mapped_column(Timestamp)
    consent: Mapped[str] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(Timestamp)
    frames: Mapped[int] = mapped_column(BigInteger)
    frames_missing: Mapped[int] = mapped_column(BigInteger)
    face_presence: Mapped[float | None] = mapped_column(Double)
    facing_screen: Mapped[float | None] = mapped_column(Double)
    others_in_view: Mapped[float | None] = mapped_column(Double)
    faces: Mapped[int] = mapped_column(BigInteger)
    quality: Mapped[float | None] = mapped_column(Double)
    summarised_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_participant_summaries_session", "session_id"),)


class Erasure(Base):
    """The id of an erased session or participant, and nothing else about them: entries that
    still name it (late, or replayed after a Redis restart) are dropped, never stored again."""

    __tablename__ = "erasures"
    id: Mapped[UUID] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


ACCOUNT_ROLES = ("consultant", "manager")
ROOM_KINDS = ("consultation", "class")


class User(Base):
    """Someone who may sign in: a consultant (holds rooms, sees their own sessions) or a
    manager (sees every session). The password is kept only as a scrypt hash."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(Enum(*ACCOUNT_ROLES, name="account_role"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class SignIn(Base):
    """A signed-in browser: its cookie's token, kept only as a SHA-256 hash. Signing out ends
    it here, so a copy of the cookie is refused from then on."""

    __tablename__ = "sign_ins"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)


class FailedSignIns(Base):
    """Failed sign-ins in a row for one username (known or not): from a few on, each next try
    waits longer."""

    __tablename__ = "failed_sign_ins"
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(Timestamp)


class FailedSignInsByAddress(Base):
    """Failed sign-ins in a row from one client address (an IPv6 client's /64), whatever the
    usernames tried: from a few on, each next try from there waits longer."""

    __tablename__ = "failed_sign_ins_by_address"
    address: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(Timestamp)


class Room(Base):
    """A consultation or a class a consultant set up; people enter it only by invitation (or as
    its consultant, signed in). Its name is unique among rooms not yet closed."""

    __tablename__ = "rooms"
    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(Enum(*ROOM_KINDS, name="room_kind"))
    consultant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    __table_args__ = (Index("uq_rooms_open_name", "name", unique=True,
                            postgresql_where=text("closed_at IS NULL")),)


class Invitation(Base):
    """A link into one room with one role; the token is kept only as a SHA-256 hash."""

    __tablename__ = "invitations"
    id: Mapped[UUID] = mapped_column(primary_key=True)
    room_id: Mapped[UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(Enum(*ROLES, name="participant_role",
                                           create_type=False))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_invitations_room", "room_id"),)
