"""The stream contract: what producers write is exactly what workers read, and anything else
is refused with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.stream import Frame, RoomEvent, StreamFormatError, StreamKeys

NOW = datetime(2026, 11, 21, 9, 30, 15, 123000, tzinfo=UTC)


def _wire(fields: dict) -> dict[bytes, bytes]:
    """What redis-py hands a consumer for what a producer added."""
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def test_a_frame_survives_the_round_trip_with_millisecond_capture_time():
    frame = Frame(uuid.uuid4(), uuid.uuid4(), 42, NOW, b"\xff\xd8jpeg")
    assert Frame.decode(_wire(frame.encode())) == frame


@pytest.mark.parametrize("kind, extra", [
    ("session_started", {"room": "r1", "consultant": "Dr Bob", "source": "room"}),
    ("participant_joined", {"participant_id": uuid.uuid4(), "role": "student",
                            "display_name": "Ann", "consent_at": NOW}),
    ("participant_joined", {"participant_id": uuid.uuid4(), "role": "client",
                            "display_name": "Refuses"}),
    ("participant_left", {"participant_id": uuid.uuid4()}),
    ("session_ended", {}),
])
def test_room_events_survive_the_round_trip(kind, extra):
    event = RoomEvent(kind, uuid.uuid4(), NOW, **extra)
    assert RoomEvent.decode(_wire(event.encode())) == event


@pytest.mark.parametrize("change, reason", [
    ({"v": "2"}, "contract version"),
    ({"seq": "x"}, "'seq' is not an integer"),
    ({"participant": "bob"}, "'participant' is not a UUID"),
    ({"jpeg": b"GIF89a"}, "does not hold a JPEG"),
])
def test_a_malformed_frame_is_refused_with_the_reason(change, reason):
    fields = Frame(uuid.uuid4(), uuid.uuid4(), 1, NOW, b"\xff\xd8").encode() | change
    with pytest.raises(StreamFormatError, match=reason):
        Frame.decode(_wire(fields))


def test_a_frame_without_its_image_is_refused():
    fields = Frame(uuid.uuid4(), uuid.uuid4(), 1, NOW, b"\xff\xd8").encode()
    del fields["jpeg"]
    with pytest.raises(StreamFormatError, match="'jpeg' is missing"):
        Frame.decode(_wire(fields))


@pytest.mark.parametrize("fields, reason", [
    ({"kind": "participant_joined", "role": "client"}, "lacks participant_id, display_name"),
    ({"kind": "session_started", "room": "r", "source": "tape"}, "source 'tape'"),
    ({"kind": "participant_joined", "participant": str(uuid.uuid4()), "name": "x",
      "role": "boss"}, "role 'boss'"),
    ({"kind": "reboot"}, "unknown room event kind"),
])
def test_an_incomplete_room_event_is_refused(fields, reason):
    base = {"v": "1", "session": str(uuid.uuid4()), "at_ms": "0"}
    with pytest.raises(StreamFormatError, match=reason):
        RoomEvent.decode(_wire(base | fields))


def test_every_key_starts_with_the_prefix():
    keys = StreamKeys.for_prefix("clinic-a")
    assert (keys.frames, keys.room_events, keys.dead_letter) == (
        "clinic-a:frames", "clinic-a:room-events", "clinic-a:dead-letter")
