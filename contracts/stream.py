"""The stream contract between producers (ingest, ``econsult analyze``) and the inference workers.

Two Redis streams, read by one consumer group:

- ``<prefix>:room-events``: a session started, a participant joined (with their consent to
  each kind of analysis), changed a consent, left, spoke (a speech segment: from when to when,
  growing while they go on speaking; never a sound), the session is still alive, the session
  ended. Small, and processed before frames.
- ``<prefix>:frames``: one sampled video frame of one participant as JPEG, with its capture time.
  A frame is identified by its *capture* (one analysis stream of one participant, from one
  device, from the moment it starts until it stops: a reload or a re-consent starts a new one)
  and its sequence number within that capture, so a redelivered entry is recognised and a new
  frame never is. Approximately capped at ``stream_maxlen`` entries.

Workers delete an entry once what it carries is committed to PostgreSQL: no frame stays in
Redis after its analysis. Entries that break the contract go to ``<prefix>:dead-letter`` with
the reason (never with the image). Every entry carries the contract version ``v``; a decoder
refuses versions it does not know, and checks every bound below, so that nothing a worker
cannot store gets past decoding.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, get_args
from uuid import UUID

import redis

from contracts.consent import ANALYSES

VERSION = "2"
WORKER_GROUP = "workers"
ROLES = ("consultant", "client", "student")
SOURCES = ("room", "recording")
# Why a session ended: closed by its consultant or its last leave, its producer stopped, nobody
# was heard of for ``session_silence_s``, or its recording could not be read to the end.
END_REASONS = ("ended", "interrupted", "silent", "incomplete")

RoomEventKind = Literal[
    "session_started", "participant_joined", "consent_given", "consent_withdrawn",
    "participant_left", "session_alive", "session_ended", "speech",
]
# Bounds every decoder enforces: what PostgreSQL can store and no honest producer exceeds.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_SEQ = 2**31 - 1
MAX_NAME_CHARS = 100
MAX_JPEG_BYTES = 1 << 20
MAX_IMAGE_SIDE = 4096
# A producer announces each live session this often, so one nobody hears of can be closed.
SESSION_ALIVE_S = 60.0
DEAD_FIELD_BYTES = 200  # of each field a dead letter keeps
ERASE_SCAN = 500  # entries read at a time when erasing someone from the streams
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
    # Which ingest holds a live room, and which ingests are up (ingest/placement.py).
    placement_prefix: str
    ingest_prefix: str

    @classmethod
    def for_prefix(cls, prefix: str) -> StreamKeys:
        return cls(f"{prefix}:frames", f"{prefix}:room-events", f"{prefix}:dead-letter",
                   f"{prefix}:worker:", f"{prefix}:live:", f"{prefix}:placement:",
                   f"{prefix}:ingest:")

    def heartbeat(self, worker: str) -> str:
        return f"{self.heartbeat_prefix}{worker}"

    def placement(self, room: str) -> str:
        return f"{self.placement_prefix}{room}"

    def ingest(self, address: str) -> str:
        return f"{self.ingest_prefix}{address}"

    def live(self, session_id: UUID) -> str:
        """Pub/sub channel of a session's live updates, one message per batch a worker stored
        (:class:`LiveUpdates`)."""
        return f"{self.live_prefix}{session_id}"


def live_workers(client: redis.Redis, keys: StreamKeys) -> list[str]:
    """Names of the workers whose heartbeat has not expired."""
    return sorted(key.decode().removeprefix(keys.heartbeat_prefix)
                  for key in client.scan_iter(match=f"{keys.heartbeat_prefix}*", count=1000))


@dataclass(frozen=True)
class Frame:
    session_id: UUID
    participant_id: UUID
    capture_id: UUID
    seq: int
    captured_at: datetime
    jpeg: bytes

    def encode(self) -> dict[str, str | bytes]:
        return {
            "v": VERSION,
            "session": str(self.session_id),
            "participant": str(self.participant_id),
            "capture": str(self.capture_id),
            "seq": str(self.seq),
            "captured_at_ms": str(_to_ms(self.captured_at)),
            "jpeg": self.jpeg,
        }

    @classmethod
    def decode(cls, fields: Fields) -> Frame:
        _check_version(fields)
        return cls(
            session_id=_uuid(fields, "session"),
            participant_id=_uuid(fields, "participant"),
            capture_id=_uuid(fields, "capture"),
            seq=_int(fields, "seq", 0, MAX_SEQ),
            captured_at=_time(fields, "captured_at_ms"),
            jpeg=_jpeg(fields, "jpeg"),
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
            "voice_consent_at_ms": self.voice_consent_at and str(_to_ms(self.voice_consent_at)),
            "reason": self.reason,
            "analysis": self.analysis,
            "capture": self.capture_id and str(self.capture_id),
            "seq": None if self.seq is None else str(self.seq),
            "until_ms": self.until and str(_to_ms(self.until)),
        }
        fields.update({k: v for k, v in optional.items() if v is not None})
        return fields

    @classmethod
    def decode(cls, fields: Fields) -> RoomEvent:
        _check_version(fields)
        kind = _text(fields, "kind")
        if kind not in get_args(RoomEventKind):
            raise StreamFormatError(f"unknown room event kind {kind[:40]!r}")
        event = cls(
            kind=kind,
            session_id=_uuid(fields, "session"),
            at=_time(fields, "at_ms"),
            room=_optional(_name, fields, "room"),
            consultant=_optional(_name, fields, "consultant"),
            source=_optional(_choice(SOURCES), fields, "source"),
            participant_id=_optional(_uuid, fields, "participant"),
            role=_optional(_choice(ROLES), fields, "role"),
            display_name=_optional(_name, fields, "name"),
            consent_at=_optional(_time, fields, "consent_at_ms"),
            voice_consent_at=_optional(_time, fields, "voice_consent_at_ms"),
            reason=_optional(_choice(END_REASONS), fields, "reason"),
            analysis=_optional(_choice(ANALYSES), fields, "analysis"),
            capture_id=_optional(_uuid, fields, "capture"),
            seq=_optional(lambda f, n: _int(f, n, 0, MAX_SEQ), fields, "seq"),
            until=_optional(_time, fields, "until_ms"),
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


@dataclass(frozen=True)
class LiveUpdate:
    """The latest stored analysis of one participant, as the room shows it to the consultant."""

    participant_id: UUID
    captured_at: datetime
    face_found: bool
    others_in_view: int
    probabilities: dict[str, float] | None  # of the participant's own face; None without it
    facing_screen: bool | None = None  # None where no face was found or its pose not known

    def body(self) -> dict[str, Any]:
        return {"participant": str(self.participant_id),
                "captured_at_ms": _to_ms(self.captured_at), "face_found": self.face_found,
                "others_in_view": self.others_in_view, "probabilities": self.probabilities,
                "facing_screen": self.facing_screen}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> LiveUpdate:
        return cls(UUID(body["participant"]),
                   datetime.fromtimestamp(body["captured_at_ms"] / 1000, tz=UTC),
                   bool(body["face_found"]), int(body["others_in_view"]),
                   body["probabilities"], body.get("facing_screen"))


@dataclass(frozen=True)
class LiveUpdates:
    """A session's updates from one batch a worker stored, in capture order: one message, so
    that ingest handles a batch at a time rather than a frame at a time."""

    session_id: UUID
    updates: list[LiveUpdate]

    def encode(self) -> str:
        return json.dumps({"v": VERSION, "session": str(self.session_id),
                           "updates": [update.body() for update in self.updates]})

    @classmethod
    def decode(cls, message: str | bytes) -> LiveUpdates:
        try:
            body = json.loads(message)
            if body.get("v") != VERSION:
                raise StreamFormatError(f"contract version {body.get('v')!r} is not {VERSION!r}")
            return cls(UUID(body["session"]), [LiveUpdate.from_body(update)
                                               for update in body["updates"]])
        except (ValueError, KeyError, TypeError, OverflowError, AttributeError) as exc:
            raise StreamFormatError(f"malformed live updates: {exc!r}") from None


def publish_live_updates(client: redis.Redis, keys: StreamKeys, updates: LiveUpdates) -> None:
    """Fire and forget: a room that is not listening misses nothing it needs later."""
    client.publish(keys.live(updates.session_id), updates.encode())


def publish_frame(client: redis.Redis, keys: StreamKeys, frame: Frame, maxlen: int) -> bytes:
    """Append a frame; the stream is trimmed approximately to ``maxlen`` entries."""
    return client.xadd(keys.frames, frame.encode(), maxlen=maxlen, approximate=True)


def publish_room_event(client: redis.Redis, keys: StreamKeys, event: RoomEvent) -> bytes:
    return client.xadd(keys.room_events, event.encode())


def dead_letter(client: redis.Redis, keys: StreamKeys, source: str, entry_id: bytes,
                fields: Fields, reason: str, maxlen: int) -> None:
    """Keep an entry nobody can process, with why, so it never blocks the group.

    The image itself is not kept: no video frame is stored anywhere, not even a broken one.
    Other fields are cut to ``DEAD_FIELD_BYTES``: enough to trace the entry, and a megabyte of
    display name does not live on in the dead-letter stream.
    """
    record = {k: v[:DEAD_FIELD_BYTES] for k, v in fields.items() if k != b"jpeg"}
    if b"jpeg" in fields:
        record[b"jpeg_bytes"] = str(len(fields[b"jpeg"]))
    record |= {b"dead_reason": reason, b"dead_source": source, b"dead_id": entry_id}
    client.xadd(keys.dead_letter, record, maxlen=maxlen, approximate=True)


def erase_from_streams(client: redis.Redis, keys: StreamKeys, erased: UUID) -> int:
    """Delete every entry that names the session or participant ``erased`` from every stream
    (unanalysed frames, unread room events, dead letters); how many were deleted."""
    wanted = str(erased).encode()
    deleted = 0
    for stream in (keys.frames, keys.room_events, keys.dead_letter):
        after = "-"
        while entries := client.xrange(stream, after, "+", count=ERASE_SCAN):
            doomed = [entry_id for entry_id, fields in entries
                      if wanted in (fields.get(b"session"), fields.get(b"participant"))]
            if doomed:
                deleted += client.xdel(stream, *doomed)
            after = b"(" + entries[-1][0]
    return deleted


@dataclass(frozen=True)
class Backlog:
    """What the workers have yet to finish of a stream: entries not read, read but not acked."""

    unread: int
    pending: int

    @classmethod
    def of(cls, stream_info: dict, groups: list[dict]) -> Backlog:
        """From the replies to XINFO STREAM and XINFO GROUPS (either Redis client's)."""
        group = next((g for g in groups if g["name"] in (WORKER_GROUP, WORKER_GROUP.encode())),
                     None)
        if group is None:
            return cls(int(stream_info["length"]), 0)
        read_all = _entry_id(group["last-delivered-id"]) >= _entry_id(
            stream_info["last-generated-id"])
        # Redis cannot always count the unread (``lag`` is then nil): at least one is.
        unread = 0 if read_all else int(group.get("lag") or 1)
        return cls(unread, int(group["pending"]))


def _entry_id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    milliseconds, sequence = text.split("-")
    return int(milliseconds), int(sequence)


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
        raise StreamFormatError(f"contract version {version!r:.40} is not {VERSION!r}")


def _required(fields: Fields, name: str) -> bytes:
    value = fields.get(name.encode())
    if value is None:
        raise StreamFormatError(f"field {name!r} is missing")
    return value


def _optional(read: Callable[[Fields, str], T], fields: Fields, name: str) -> T | None:
    """``read`` the field if the entry has it, else None."""
    return read(fields, name) if name.encode() in fields else None


def _text(fields: Fields, name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    raw = _required(fields, name)
    # Four bytes per character at most: a longer field is refused before it is decoded.
    if len(raw) > 4 * max_chars:
        raise StreamFormatError(f"field {name!r} is longer than {max_chars} characters")
    try:
        return check_text(raw.decode(), f"field {name!r}", max_chars)
    except UnicodeDecodeError:
        raise StreamFormatError(f"field {name!r} is not UTF-8 text") from None


def check_text(value: str, name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """``value`` if it is at most ``max_chars`` characters without control characters."""
    if len(value) > max_chars:
        raise StreamFormatError(f"{name} is longer than {max_chars} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise StreamFormatError(f"{name} holds control characters (a NUL byte, say)")
    return value


def check_name(value: str, name: str) -> str:
    """A room or person's name as the contract carries it: short, printable, not blank."""
    if not check_text(value, name).strip():
        raise StreamFormatError(f"{name} is blank")
    return value


def _name(fields: Fields, name: str) -> str:
    return check_name(_text(fields, name), f"field {name!r}")


def _choice(allowed: tuple[str, ...]) -> Callable[[Fields, str], str]:
    def read(fields: Fields, name: str) -> str:
        value = _text(fields, name)
        if value not in allowed:
            raise StreamFormatError(f"{name} {value!r} is not one of {', '.join(allowed)}")
        return value
    return read


def _int(fields: Fields, name: str, low: int, high: int) -> int:
    raw = _required(fields, name)
    try:
        value = int(raw) if len(raw) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise StreamFormatError(f"field {name!r} is not an integer")
    if not low <= value <= high:
        raise StreamFormatError(f"field {name!r} is {value}, outside {low}..{high}")
    return value


def _uuid(fields: Fields, name: str) -> UUID:
    raw = _required(fields, name)
    try:
        if len(raw) > 45:  # the longest form UUID() reads: urn:uuid:…
            raise ValueError
        return UUID(raw.decode())
    except (ValueError, UnicodeDecodeError):
        raise StreamFormatError(f"field {name!r} is not a UUID") from None


def _time(fields: Fields, name: str) -> datetime:
    ms = _int(fields, name, _to_ms(EARLIEST), _to_ms(LATEST))
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _jpeg(fields: Fields, name: str) -> bytes:
    jpeg = _required(fields, name)
    if len(jpeg) > MAX_JPEG_BYTES:
        raise StreamFormatError(f"field {name!r} holds {len(jpeg)} bytes, more than "
                                f"{MAX_JPEG_BYTES}")
    size = jpeg_size(jpeg)
    if size is None:
        raise StreamFormatError(f"field {name!r} does not hold a JPEG image")
    if max(size) > MAX_IMAGE_SIDE or min(size) < 1:
        raise StreamFormatError(f"field {name!r} is a {size[0]}x{size[1]} image; frames are 1 to "
                                f"{MAX_IMAGE_SIDE} pixels a side")
    return jpeg


# Start-of-frame markers (baseline, extended, progressive, lossless; not DHT, JPG or DAC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(jpeg: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, without decoding it; None if not a JPEG."""
    if not jpeg.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 <= len(jpeg):
        if jpeg[at] != 0xFF:
            return None
        marker = jpeg[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        length = int.from_bytes(jpeg[at + 2:at + 4], "big")
        if marker in _SOF:
            return (int.from_bytes(jpeg[at + 7:at + 9], "big"),
                    int.from_bytes(jpeg[at + 5:at + 7], "big"))
        at += 2 + length
    return None
