"""The stream contract: what producers write is exactly what workers read, and anything else
is refused with a reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from contracts.stream import (
    MAX_NAME_CHARS,
    Frame,
    LiveUpdate,
    LiveUpdates,
    RoomEvent,
    StreamFormatError,
    StreamKeys,
)
from ingest.encoding import encode_frame

NOW = datetime(2026, 11, 21, 9, 30, 15, 123000, tzinfo=UTC)
JPEG = encode_frame(np.zeros((48, 64, 3), np.uint8), 640, 80)


def _frame(seq: int = 1) -> Frame:
    return Frame(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), seq, NOW, JPEG)


def _wire(fields: dict) -> dict[bytes, bytes]:
    """What redis-py hands a consumer for what a producer added."""
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def test_a_frame_survives_the_round_trip_with_millisecond_capture_time():
    frame = _frame(42)
    assert Frame.decode(_wire(frame.encode())) == frame


@pytest.mark.parametrize("kind, extra", [
    ("session_started", {"room": "r1", "consultant": "Dr Bob", "source": "room"}),
    ("participant_joined", {"participant_id": uuid.uuid4(), "role": "student",
                            "display_name": "Ann", "consent_at": NOW}),
    ("participant_joined", {"participant_id": uuid.uuid4(), "role": "client",
                            "display_name": "Refuses"}),
    ("participant_joined", {"participant_id": uuid.uuid4(), "role": "consultant",
                            "display_name": "Dr Bob", "voice_consent_at": NOW}),
    ("consent_withdrawn", {"participant_id": uuid.uuid4(), "analysis": "voice"}),
    ("speech", {"participant_id": uuid.uuid4(), "capture_id": uuid.uuid4(), "seq": 3,
                "until": NOW + timedelta(seconds=2.5)}),
    ("participant_left", {"participant_id": uuid.uuid4()}),
    ("session_alive", {}),
    ("session_ended", {"reason": "interrupted"}),
])
def test_room_events_survive_the_round_trip(kind, extra):
    event = RoomEvent(kind, uuid.uuid4(), NOW, **extra)
    assert RoomEvent.decode(_wire(event.encode())) == event


@pytest.mark.parametrize("change, reason", [
    ({"v": "1"}, "contract version"),
    ({"seq": "x"}, "'seq' is not an integer"),
    ({"seq": str(2**31)}, "'seq' is 2147483648, outside 0..2147483647"),
    ({"seq": "-1"}, "outside 0.."),
    ({"seq": "9" * 400}, "'seq' is not an integer"),
    ({"participant": "bob"}, "'participant' is not a UUID"),
    ({"capture": "x" * 10_000}, "'capture' is not a UUID"),
    ({"captured_at_ms": str(10**20)}, "'captured_at_ms' is 100000000000000000000, outside"),
    ({"captured_at_ms": str(-10**15)}, "outside"),
    ({"jpeg": b"GIF89a"}, "does not hold a JPEG"),
    ({"jpeg": b"\xff\xd8 not really"}, "does not hold a JPEG"),
    ({"jpeg": JPEG + bytes(1 << 20)}, "more than 1048576"),
    ({"jpeg": encode_frame(np.zeros((8, 5000, 3), np.uint8), 5000, 10)},
     "is a 5000x8 image; frames are 1 to 4096 pixels a side"),
])
def test_a_malformed_frame_is_refused_with_the_reason(change, reason):
    with pytest.raises(StreamFormatError, match=reason):
        Frame.decode(_wire(_frame().encode() | change))


def test_a_batchs_live_updates_survive_the_round_trip_as_one_message():
    faces = {"happy": 0.7, "neutral": 0.3}
    updates = LiveUpdates(uuid.uuid4(), [
        LiveUpdate(uuid.uuid4(), NOW, True, 1, faces, True),
        LiveUpdate(uuid.uuid4(), NOW + timedelta(seconds=0.5), False, 0, None)])
    assert LiveUpdates.decode(updates.encode().encode()) == updates


@pytest.mark.parametrize("body, reason", [
    ({"v": "1", "updates": []}, "contract version"),
    ({"session": "bob", "updates": []}, "malformed live updates"),
    ({"updates": [{"participant": "x"}]}, "malformed live updates"),
    ({"updates": 3}, "malformed live updates"),
    ({"session": None}, "malformed live updates"),
])
def test_malformed_live_updates_are_refused_with_the_reason(body, reason):
    message = json.dumps({"v": "2", "session": str(uuid.uuid4())} | body)
    with pytest.raises(StreamFormatError, match=reason):
        LiveUpdates.decode(message)


@pytest.mark.parametrize("message", ["[]", "not json", b"\xff"])
def test_live_updates_that_are_not_a_json_object_are_refused(message):
    with pytest.raises(StreamFormatError, match="malformed live updates"):
        LiveUpdates.decode(message)


def test_a_frame_without_its_image_is_refused():
    fields = _frame().encode()
    del fields["jpeg"]
    with pytest.raises(StreamFormatError, match="'jpeg' is missing"):
        Frame.decode(_wire(fields))


@pytest.mark.parametrize("fields, reason", [
    ({"kind": "participant_joined", "role": "client"}, "lacks participant_id, display_name"),
    ({"kind": "session_started", "room": "r", "source": "tape"}, "source 'tape'"),
    ({"kind": "participant_joined", "participant": str(uuid.uuid4()), "name": "x",
      "role": "boss"}, "role 'boss'"),
    ({"kind": "reboot"}, "unknown room event kind"),
    ({"kind": "session_started", "room": "r" * 201, "source": "room"}, "longer than 100"),
    ({"kind": "session_started", "room": "a\x00b", "source": "room"}, "control characters"),
    ({"kind": "session_started", "room": "   ", "source": "room"}, "blank"),
    ({"kind": "participant_joined", "participant": str(uuid.uuid4()), "role": "client",
      "name": "n" * (1 << 20)}, "longer than 100"),
    ({"kind": "session_ended", "reason": "bored"}, "reason 'bored'"),
    ({"kind": "consent_given", "participant": str(uuid.uuid4()), "analysis": "mood"},
     "analysis 'mood' is not one of face, voice"),
    ({"kind": "speech", "participant": str(uuid.uuid4()), "capture": str(uuid.uuid4()),
      "seq": "0"}, "speech event lacks until"),
    ({"kind": "speech", "participant": str(uuid.uuid4()), "capture": str(uuid.uuid4()),
      "seq": "0", "until_ms": "1763999999000"}, "ends before it starts"),
    ({"kind": "session_ended", "at_ms": "1" * 20}, "outside"),
    ({"kind": "session_ended", "session": "not-a-uuid"}, "'session' is not a UUID"),
])
def test_a_malformed_room_event_is_refused(fields, reason):
    base = {"v": "2", "session": str(uuid.uuid4()), "at_ms": "1764000000000"}
    with pytest.raises(StreamFormatError, match=reason):
        RoomEvent.decode(_wire(base | fields))


def test_names_of_the_longest_allowed_length_pass():
    name = "é" * MAX_NAME_CHARS
    event = RoomEvent("participant_joined", uuid.uuid4(), NOW, participant_id=uuid.uuid4(),
                      role="client", display_name=name)
    assert RoomEvent.decode(_wire(event.encode())).display_name == name


def test_every_key_starts_with_the_prefix():
    keys = StreamKeys.for_prefix("clinic-a")
    assert (keys.frames, keys.room_events, keys.dead_letter) == (
        "clinic-a:frames", "clinic-a:room-events", "clinic-a:dead-letter")
