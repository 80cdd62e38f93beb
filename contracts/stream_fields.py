"""How the streams' entries are written and read (contracts/stream.py): the contract version
every entry carries, and the readers of its fields, which refuse anything a worker could not
store with a clear :class:`StreamFormatError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

VERSION = "2"
# Bounds every decoder enforces: what PostgreSQL can store and no honest producer exceeds.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_SEQ = 2**31 - 1
MAX_NAME_CHARS = 100
Fields = dict[bytes, bytes]
T = TypeVar("T")


class StreamFormatError(ValueError):
    """A stream entry does not follow this contract; it belongs in the dead-letter stream."""


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("stream timestamps must be timezone-aware")
    return round(moment.timestamp() * 1000)


def check_version(fields: Fields) -> None:
    version = fields.get(b"v")
    if version != VERSION.encode():
        raise StreamFormatError(f"contract version {version!r:.40} is not {VERSION!r}")


def required(fields: Fields, name: str) -> bytes:
    value = fields.get(name.encode())
    if value is None:
        raise StreamFormatError(f"field {name!r} is missing")
    return value


def optional(read: Callable[[Fields, str], T], fields: Fields, name: str) -> T | None:
    """``read`` the field if the entry has it, else None."""
    return read(fields, name) if name.encode() in fields else None


def read_text(fields: Fields, name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    raw = required(fields, name)
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


def read_name(fields: Fields, name: str) -> str:
    return check_name(read_text(fields, name), f"field {name!r}")


def read_choice(allowed: tuple[str, ...]) -> Callable[[Fields, str], str]:
    def read(fields: Fields, name: str) -> str:
        value = read_text(fields, name)
        if value not in allowed:
            raise StreamFormatError(f"{name} {value!r} is not one of {', '.join(allowed)}")
        return value
    return read


def read_int(fields: Fields, name: str, low: int, high: int) -> int:
    raw = required(fields, name)
    try:
        value = int(raw) if len(raw) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise StreamFormatError(f"field {name!r} is not an integer")
    if not low <= value <= high:
        raise StreamFormatError(f"field {name!r} is {value}, outside {low}..{high}")
    return value


def read_uuid(fields: Fields, name: str) -> UUID:
    raw = required(fields, name)
    try:
        if len(raw) > 45:  # the longest form UUID() reads: urn:uuid:…
            raise ValueError
        return UUID(raw.decode())
    except (ValueError, UnicodeDecodeError):
        raise StreamFormatError(f"field {name!r} is not a UUID") from None


def read_time(fields: Fields, name: str) -> datetime:
    ms = read_int(fields, name, to_ms(EARLIEST), to_ms(LATEST))
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
