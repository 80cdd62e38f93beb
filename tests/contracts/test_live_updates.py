"""Live updates: a worker's batch reaches the room as it was published, and anything else is
refused with a reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.live_updates import LiveUpdate, LiveUpdates
from contracts.stream_fields import StreamFormatError

NOW = datetime(2026, 11, 21, 9, 30, 15, 123000, tzinfo=UTC)


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
