"""The streams' names."""

from __future__ import annotations

from contracts.stream import StreamKeys


def test_every_key_starts_with_the_prefix():
    keys = StreamKeys.for_prefix("clinic-a")
    assert (keys.frames, keys.room_events, keys.dead_letter) == (
        "clinic-a:frames", "clinic-a:room-events", "clinic-a:dead-letter")
