"""The stream contract between producers (ingest, ``econsult analyze``) and the inference workers.

Two Redis streams, read by one consumer group:

- ``<prefix>:room-events``: a session started, a participant joined (with consent), left, the
  session ended. Few, small, and processed before frames.
- ``<prefix>:frames``: one sampled video frame of one participant as JPEG, with its capture time
  and a per-participant sequence number. Approximately capped at ``stream_maxlen`` entries.

Entries that cannot be decoded go to ``<prefix>:dead-letter`` with the reason.
Every entry carries the contract version ``v``; a decoder refuses versions it does not know.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar, get_args
from uuid import UUID

import redis

VERSION = "1"
WORKER_GROUP = "workers"
ROLES = ("consultant", "client", "student")
SOURCES = ("room", "recording")

RoomEventKind = Literal[
    "session_started", "participant_joined", "consent_given", "consent_withdrawn",
    "participant_left", "session_ended",
]
Fields = dict[bytes, bytes]
T = TypeVar("T")


class StreamFormatError(ValueError):
    """A stream entry does not follow this contract; it belongs in the dead-letter stream."""


# A live worker refreshes its heartbeat key more often than this; producers check for one.
HEARTBEAT_TTL_S = 10


@dataclass(frozen=True)
class StreamKeys:
    frames: str
    room_events: str
    dead_letter: str
    heartbeat_prefix: str

    live_prefix: str

    @classmethod
    def for_prefix(cls, prefix: str) -> StreamKeys:
        return cls(f"{prefix}:frames", f"{prefix}:room-events", f"{prefix}:dead-letter",
                   f"{prefix}:worker:", f"{prefix}:live:")

    def heartbeat(self, worker: str) -> str:
        return f"{self.heartbeat_prefix}{worker}"

    def live(self, session_id: UUID) -> str:
        """Pub/sub channel of a session's live updates, one per analysed frame batch."""
        return f"{self.live_prefix}{session_id}"


def live_workers(client: redis.Redis, keys: StreamKeys) -> list[str]:
    """Names of the workers whose heartbeat has not expired."""
    return sorted(key.decode().removeprefix(keys.heartbeat_prefix)
                  for key in client.scan_iter(match=f"{keys.heartbeat_prefix}*", count=1000))


@dataclass(frozen=True)
class Frame:
    session_id: UUID
    participant_id: UUID
    seq: int
    captured_at: datetime
    jpeg: bytes

    def encode(self) -> dict[str, str | bytes]:
        return {
            "v": VERSION,
            "session": str(self.session_id),
            "participant": str(self.participant_id),
            "seq": str(self.seq),
            "captured_at_ms": str(_to_ms(self.captured_at)),
            "jpeg": self.jpeg,
        }

    @classmethod
    def decode(cls, fields: Fields) -> Frame:
        _check_version(fields)
        jpeg = _required(fields, "jpeg")
        if not jpeg.startswith(b"\xff\xd8"):
            raise StreamFormatError("field 'jpeg' does not hold a JPEG image")
        return cls(
            session_id=_uuid(fields, "session"),
            participant_id=_uuid(fields, "participant"),
            seq=_int(fields, "seq"),
            captured_at=_time(fields, "captured_at_ms"),
            jpeg=jpeg,
        )


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
    consent_at: datetime | None = None

    def encode(self) -> dict[str, str]:
        fields = {
            "v": VERSION,
            "kind": self.kind,
            "session": str(self.session_id),
            "at_ms": str(_to_ms(self.at)),
        }
        optional = {
            "room": self.room,
            "consultant": self.consultant,
            "source": self.source,
            "participant": self.participant_id and str(self.participant_id),
            "role": self.role,
            "name": self.display_name,
            "consent_at_ms": self.consent_at and str(_to_ms(self.consent_at)),
        }
        fields.update({k: v for k, v in optional.items() if v is not None})
        return fields

    @classmethod
    def decode(cls, fields: Fields) -> RoomEvent:
        _check_version(fields)
        kind = _text(fields, "kind")
        if kind not in get_args(RoomEventKind):
            raise StreamFormatError(f"unknown room event kind {kind!r}")
        event = cls(
            kind=kind,
            session_id=_uuid(fields, "session"),
            at=_time(fields, "at_ms"),
            room=_optional(_text, fields, "room"),
            consultant=_optional(_text, fields, "consultant"),
            source=_optional(_text, fields, "source"),
            participant_id=_optional(_uuid, fields, "participant"),
            role=_optional(_text, fields, "role"),
            display_name=_optional(_text, fields, "name"),
            consent_at=_optional(_time, fields, "consent_at_ms"),
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
            "session_ended": (),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise StreamFormatError(f"{self.kind} event lacks {', '.join(missing)}")
        if self.role is not None and self.role not in ROLES:
            raise StreamFormatError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        if self.source is not None and self.source not in SOURCES:
            raise StreamFormatError(f"source {self.source!r} is not one of {', '.join(SOURCES)}")


@dataclass(frozen=True)
class LiveUpdate:
    """The latest analysis of one participant, as the room shows it to the consultant."""

    session_id: UUID
    participant_id: UUID
    captured_at: datetime
    faces: int
    probabilities: dict[str, float] | None  # of the most confident face; None without a face

    def encode(self) -> str:
        return json.dumps({"v": VERSION, "session": str(self.session_id),
                           "participant": str(self.participant_id),
                           "captured_at_ms": _to_ms(self.captured_at), "faces": self.faces,
                           "probabilities": self.probabilities})

    @classmethod
    def decode(cls, message: str | bytes) -> LiveUpdate:
        try:
            body = json.loads(message)
            if body.get("v") != VERSION:
                raise StreamFormatError(f"contract version {body.get('v')!r} is not {VERSION!r}")
            return cls(UUID(body["session"]), UUID(body["participant"]),
                       datetime.fromtimestamp(body["captured_at_ms"] / 1000, tz=UTC),
                       int(body["faces"]), body["probabilities"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StreamFormatError(f"malformed live update: {exc}") from None


def publish_live_update(client: redis.Redis, keys: StreamKeys, update: LiveUpdate) -> None:
    """Fire and forget: a room that is not listening misses nothing it needs later."""
    client.publish(keys.live(update.session_id), update.encode())


def publish_frame(client: redis.Redis, keys: StreamKeys, frame: Frame, maxlen: int) -> bytes:
    """Append a frame; the stream is trimmed approximately to ``maxlen`` entries."""
    return client.xadd(keys.frames, frame.encode(), maxlen=maxlen, approximate=True)


def publish_room_event(client: redis.Redis, keys: StreamKeys, event: RoomEvent) -> bytes:
    return client.xadd(keys.room_events, event.encode())


def dead_letter(client: redis.Redis, keys: StreamKeys, source: str, entry_id: bytes,
                fields: Fields, reason: str, maxlen: int) -> None:
    """Keep an entry nobody can process, with why, so it never blocks the group.

    The image itself is not kept: no video frame is stored anywhere, not even a broken one.
    """
    record = {k: v for k, v in fields.items() if k != b"jpeg"}
    if b"jpeg" in fields:
        record[b"jpeg_bytes"] = str(len(fields[b"jpeg"]))
    record |= {b"dead_reason": reason, b"dead_source": source, b"dead_id": entry_id}
    client.xadd(keys.dead_letter, record, maxlen=maxlen, approximate=True)


def ensure_group(client: redis.Redis, stream: str) -> None:
    """Create the workers' consumer group (and the stream) if they do not exist yet."""
    try:
        client.xgroup_create(stream, WORKER_GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("stream timestamps must be timezone-aware")
    return round(moment.timestamp() * 1000)


def _check_version(fields: Fields) -> None:
    version = fields.get(b"v")
    if version != VERSION.encode():
        raise StreamFormatError(f"contract version {version!r} is not {VERSION!r}")


def _required(fields: Fields, name: str) -> bytes:
    value = fields.get(name.encode())
    if value is None:
        raise StreamFormatError(f"field {name!r} is missing")
    return value


def _optional(read: Callable[[Fields, str], T], fields: Fields, name: str) -> T | None:
    """``read`` the field if the entry has it, else None."""
    return read(fields, name) if name.encode() in fields else None


def _text(fields: Fields, name: str) -> str:
    try:
        return _required(fields, name).decode()
    except UnicodeDecodeError:
        raise StreamFormatError(f"field {name!r} is not UTF-8 text") from None


def _int(fields: Fields, name: str) -> int:
    try:
        return int(_required(fields, name))
    except ValueError:
        raise StreamFormatError(f"field {name!r} is not an integer") from None


def _uuid(fields: Fields, name: str) -> UUID:
    try:
        return UUID(_text(fields, name))
    except ValueError:
        raise StreamFormatError(f"field {name!r} is not a UUID") from None


def _time(fields: Fields, name: str) -> datetime:
    return datetime.fromtimestamp(_int(fields, name) / 1000, tz=UTC)
