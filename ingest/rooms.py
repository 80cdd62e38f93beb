"""Live rooms: who is in which room, and the room events that go on the stream for the record.

A room exists while someone is in it. Its session starts with the first join and ends when the
consultant ends it or the last participant leaves; every join, consent change and leave is
published as a room event, which the workers store.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.quality import SmoothedScore
from contracts.stream import ROLES, RoomEvent

Send = Callable[[dict[str, Any]], Any]
ROOM_NAME = re.compile(r"[\w.-]{1,100}")


class RoomError(ValueError):
    """A request the room cannot honour; the message is shown to the participant."""


@dataclass
class Member:
    id: uuid.UUID
    name: str
    role: str
    consent: bool
    send: Send
    connected: bool = True
    # Set once the member has been told they joined: before that, they get no broadcasts.
    ready: bool = False
    score: SmoothedScore = field(default_factory=SmoothedScore)

    def public(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "role": self.role,
                "consent": self.consent}


@dataclass
class Room:
    name: str
    session_id: uuid.UUID
    members: dict[uuid.UUID, Member] = field(default_factory=dict)
    ended: bool = False

    def present(self) -> list[Member]:
        """Members in the call who have been told so (and so may receive broadcasts)."""
        return [m for m in self.members.values() if m.connected and m.ready]

    def occupied(self) -> int:
        return sum(m.connected for m in self.members.values())

    def consultants(self) -> list[Member]:
        return [m for m in self.present() if m.role == "consultant"]


class Rooms:
    """Every live room of this ingest process; ``publish`` records room events."""

    def __init__(self, publish: Callable[[RoomEvent], Any], capacity: int) -> None:
        self._publish = publish
        self._capacity = capacity
        self.by_name: dict[str, Room] = {}

    def by_session(self, session_id: uuid.UUID) -> Room | None:
        return next((r for r in self.by_name.values() if r.session_id == session_id), None)

    async def join(self, room_name: str, name: str, role: str, consent: bool, send: Send,
                   rejoin: uuid.UUID | None = None) -> tuple[Room, Member]:
        if role not in ROLES:
            raise RoomError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name.strip() or len(name) > 100:
            raise RoomError("give a display name of 1 to 100 characters")
        if not ROOM_NAME.fullmatch(room_name):
            raise RoomError("a room name is 1 to 100 letters, digits, '-', '_' or '.'")
        room = self.by_name.get(room_name)
        now = datetime.now(UTC)
        if room is None:
            room = self.by_name[room_name] = Room(room_name, uuid.uuid4())
            await self._publish(RoomEvent(
                "session_started", room.session_id, now, room=room_name,
                consultant=name if role == "consultant" else None, source="room"))
        if room.occupied() >= self._capacity:
            raise RoomError(f"room {room_name!r} is full ({self._capacity} people)")
        previous = room.members.get(rejoin) if rejoin else None
        returning = previous is not None and not previous.connected
        member_id = previous.id if returning else uuid.uuid4()
        member = room.members[member_id] = Member(member_id, name.strip(), role,
                                                  consent and role != "consultant", send)
        await self._publish(RoomEvent(
            "participant_joined", room.session_id, now, participant_id=member.id, role=role,
            display_name=member.name, consent_at=now if member.consent else None))
        if returning:
            # The earlier stay's consent does not carry over: the choice made now counts.
            kind = "consent_given" if member.consent else "consent_withdrawn"
            await self._publish(RoomEvent(kind, room.session_id, now, participant_id=member.id))
        return room, member

    async def set_consent(self, room: Room, member: Member, given: bool) -> None:
        if member.consent == given:
            return
        member.consent = given
        kind = "consent_given" if given else "consent_withdrawn"
        await self._publish(RoomEvent(kind, room.session_id, datetime.now(UTC),
                                      participant_id=member.id))

    async def leave(self, room: Room, member: Member) -> None:
        if not member.connected:
            return
        member.connected = False
        await self._publish(RoomEvent("participant_left", room.session_id, datetime.now(UTC),
                                      participant_id=member.id))
        if not room.occupied():
            await self.end(room)

    async def end(self, room: Room) -> None:
        if room.ended:
            return
        room.ended = True
        self.by_name.pop(room.name, None)
        now = datetime.now(UTC)
        for member in [m for m in room.members.values() if m.connected]:
            member.connected = False
            await self._publish(RoomEvent("participant_left", room.session_id, now,
                                          participant_id=member.id))
        await self._publish(RoomEvent("session_ended", room.session_id, now))
