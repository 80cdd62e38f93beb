"""The frames stream's entries: one sampled video frame of one participant as JPEG, with its
capture time (contracts/stream.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import redis

from contracts.stream import StreamKeys
from contracts.stream_fields import (
    MAX_SEQ,
    VERSION,
    Fields,
    StreamFormatError,
    check_version,
    read_int,
    read_time,
    read_uuid,
    required,
    to_ms,
)

MAX_JPEG_BYTES = 1 << 20
MAX_IMAGE_SIDE = 4096


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
            "captured_at_ms": str(to_ms(self.captured_at)),
            "jpeg": self.jpeg,
        }

    @classmethod
    def decode(cls, fields: Fields) -> Frame:
        check_version(fields)
        return cls(
            session_id=read_uuid(fields, "session"),
            participant_id=read_uuid(fields, "participant"),
            capture_id=read_uuid(fields, "capture"),
            seq=read_int(fields, "seq", 0, MAX_SEQ),
            captured_at=read_time(fields, "captured_at_ms"),
            jpeg=_jpeg(fields, "jpeg"),
        )


def publish_frame(client: redis.Redis, keys: StreamKeys, frame: Frame, maxlen: int) -> bytes:
    """Append a frame; the stream is trimmed approximately to ``maxlen`` entries."""
    return client.xadd(keys.frames, frame.encode(), maxlen=maxlen, approximate=True)


def _jpeg(fields: Fields, name: str) -> bytes:
    jpeg = required(fields, name)
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
