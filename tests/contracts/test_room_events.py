"""Room events on the stream: what producers write is exactly what workers read, and anything
else is refused with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.room_events import RoomEvent
from contracts.stream_fields import MAX_NAME_CHARS, StreamFormatError
from tests.support.streams import as_read

NOW = datetime(2026, 11, 21, 9, 30, 15, 123000, tzinfo=UTC)


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
    assert RoomEvent.decode(as_read(event.encode())) == event


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
        RoomEvent.decode(as_read(base | fields))


def test_names_of_the_longest_allowed_length_pass():
    name = "é" * MAX_NAME_CHARS
    event = RoomEvent("participant_joined", uuid.uuid4(), NOW, participant_id=uuid.uuid4(),
                      role="client", display_name=name)
    assert RoomEvent.decode(as_read(event.encode())).display_name == name
