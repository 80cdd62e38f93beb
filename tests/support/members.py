"""Someone in a room of ingest's own making, in the test's process and without a page: for
tests of one part of ingest (its analysis connections, its SFU client, its rooms)."""

from __future__ import annotations

import uuid
from typing import Any

from contracts.alert import AlertRule
from contracts.settings import Settings
from ingest.rooms import Member, Room, Rooms


async def no_page(message: dict[str, Any]) -> None:
    """What the member's page would be sent: no test here reads it."""


def lone_student(settings: Settings, name: str) -> tuple[Room, Member]:
    """``name``, a student who agreed to face analysis, alone in a room of their own."""
    rooms = Rooms(lambda event: None, settings.room_capacity, AlertRule.of(settings))
    return rooms.join(f"room-{uuid.uuid4().hex[:8]}", name, "student", {"face"}, no_page)
