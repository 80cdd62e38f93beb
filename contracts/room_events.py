"""The room-events stream's entries: what happened in a session, from its start to its end
(contracts/stream.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

import redis

from contracts.consent import ANALYSES
from contracts.stream import StreamKeys
from contracts.stream_fields import (
    MAX_SEQ,
    VERSION,
    Fields,
    StreamFormatError,
    check_version,
    optional,
    read_choice,
    read_int,
    read_name,
    read_text,
    read_time,
    read_uuid,
    to_ms,
)

ROLES = ("consultant", "client", "student")
SOURCES = ("room", "recording")
# Why a session ended: closed by its consultant or its last leave, its producer stopped, nobody
# was heard of for ``session_silence_s``, or its recording could not be read to the end.
END_REASONS = ("ended", "interrupted", "silent", "incomplete")

RoomEventKind = Literal[
    "session_started", "participant_joined", "consent_given", "consent_withdrawn",
    "participant_left", "session_alive", "session_ended", "speech",
]
# A producer announces each live session this often, so one nobody hears of can be closed.
SESSION_ALIVE_S = 60.0


@dataclass(frozen=True)
class RoomEvent:
    kind: RoomEventKind
    session_id: UUID
    at: datetime
    room: str | None = None
    consultant: str | None = None
    source: str | None = None
    participant_id: UUID | None = None
    role: str | None = None
    display_name: str | None = None
    consent_at: datetime | None = None  # to face analysis, on joining
    voice_consent_at: datetime | None = None  # to voice analysis, on joining
    reason: str | None = None
    # Which analysis a consent change is about; an entry without it is about face analysis.
    analysis: str | None = None
    # A speech segment (kind ``speech``): the participant spoke from ``at`` to ``until``; it is
    # the ``seq``-th segment of the capture ``capture_id`` (one analysis of their audio).
    capture_id: UUID | None = None
    seq: int | None = None
    until: datetime | None = None

    def encode(self) -> dict[str, str]:
        fields = {
            "v": VERSION,
            "kind": self.kind,
            "session": str(self.session_id),
            "at_ms": str(to_ms(self.at)),
        }
        optional = {
            "room": self.room,
            "consultant": self.consultant,
            "source": self.source,
            "participant": self.participant_id and str(self.participant_id),
            "role": self.role,
            "name": self.display_name,
            "consent_at_ms": self.consent_at and str(to_ms(self.consent_at)),
            "voice_consent_at_ms": self.voice_consent_at and str(to_ms(self.voice_consent_at)),
            "reason": self.reason,
            "analysis": self.analysis,
            "capture": self.capture_id and str(self.capture_id),
            "seq": None if self.seq is None else str(self.seq),
            "until_ms": self.until and str(to_ms(self.until)),
        }
        fields.update({k: v for k, v in optional.items() if v is not None})
        return fields

    @classmethod
    def decode(cls, fields: Fields) -> RoomEvent:
        check_version(fields)
        kind = read_text(fields, "kind")
        if kind not in get_args(RoomEventKind):
            raise StreamFormatError(f"unknown room event kind {kind[:40]!r}")
        event = cls(
            kind=kind,
            session_id=read_uuid(fields, "session"),
            at=read_time(fields, "at_ms"),
            room=optional(read_name, fields, "room"),
            consultant=optional(read_name, fields, "consultant"),
            source=optional(read_choice(SOURCES), fields, "source"),
            participant_id=optional(read_uuid, fields, "participant"),
            role=optional(read_choice(ROLES), fields, "role"),
            display_name=optional(read_name, fields, "name"),
            consent_at=optional(read_time, fields, "consent_at_ms"),
            voice_consent_at=optional(read_time, fields, "voice_consent_at_ms"),
            reason=optional(read_choice(END_REASONS), fields, "reason"),
            analysis=optional(read_choice(ANALYSES), fields, "analysis"),
            capture_id=optional(read_uuid, fields, "capture"),
            seq=optional(lambda f, n: read_int(f, n, 0, MAX_SEQ), fields, "seq"),
            until=optional(read_time, fields, "until_ms"),
        )
        event._validate()
        return event

    def _validate(self) -> None:
        needs = {
            "session_started": ("room", "source"),
            "participant_joined": ("participant_id", "role", "display_name"),
            "consent_given": ("participant_id",),
            "consent_withdrawn": ("participant_id",),
            "participant_left": ("participant_id",),
            "session_alive": (),
            "session_ended": (),
            "speech": ("participant_id", "capture_id", "seq", "until"),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise StreamFormatError(f"{self.kind} event lacks {', '.join(missing)}")
        if self.until is not None and self.until < self.at:
            raise StreamFormatError("a speech segment ends before it starts")


def publish_room_event(client: redis.Redis, keys: StreamKeys, event: RoomEvent) -> bytes:
    return client.xadd(keys.room_events, event.encode())
